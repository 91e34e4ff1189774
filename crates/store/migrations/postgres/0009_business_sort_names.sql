-- A business is listed by its name without a leading article ("The Leeds
-- Plumbing Co" under L): existing businesses' sort names, and the sort
-- names their search terms carry, follow the new rule.
UPDATE customer SET sort_name = ltrim(substr(sort_name, 5)) WHERE kind = 'business' AND sort_name LIKE 'the %';
UPDATE customer SET sort_name = ltrim(substr(sort_name, 4)) WHERE kind = 'business' AND sort_name LIKE 'an %';
UPDATE customer SET sort_name = ltrim(substr(sort_name, 3)) WHERE kind = 'business' AND sort_name LIKE 'a %';
UPDATE customer_search SET sort_name = (
    SELECT c.sort_name FROM customer c WHERE c.org_id = customer_search.org_id AND c.id = customer_search.customer_id
) WHERE EXISTS (
    SELECT 1 FROM customer c
    WHERE c.org_id = customer_search.org_id AND c.id = customer_search.customer_id AND c.kind = 'business' AND c.sort_name <> customer_search.sort_name
);
