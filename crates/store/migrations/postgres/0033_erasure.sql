-- Erasure of a customer's personal data. A tombstoned activity row keeps
-- its sequence number, its content hash and its chain hash, and names the
-- `customer.erased` row that replaced its content (`erased_by`); the audit
-- checks that erasure's recorded digest of the rows it tombstoned. The
-- append-only guard lets exactly that one change through, once per row.
ALTER TABLE activity ADD COLUMN erased_by UUID;
ALTER TABLE customer ADD COLUMN erased_at BIGINT;

CREATE FUNCTION activity_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL
        AND NEW.org_id = OLD.org_id AND NEW.id = OLD.id AND NEW.seq = OLD.seq
        AND NEW.content_hash = OLD.content_hash AND NEW.chain_hash = OLD.chain_hash
        AND NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id AND NEW.subject_type = OLD.subject_type AND NEW.subject_id = OLD.subject_id
        AND NEW.kind = OLD.kind AND NEW.grp = OLD.grp AND NEW.occurred_at = OLD.occurred_at
        AND NEW.visibility = OLD.visibility AND NEW.links = OLD.links
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

DROP TRIGGER activity_append_only ON activity;
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity
FOR EACH ROW EXECUTE FUNCTION activity_guard();
