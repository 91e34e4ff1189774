//! Message bodies as HTML: plain text, escaped, with its line breaks kept
//! and its web addresses made links. No markup a sender types is ever
//! rendered; only `http` and `https` addresses become links, and links
//! open without passing on who sent the reader.

/// Characters that end a web address as it is written in running text.
fn ends_address(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`')
}

/// Punctuation that ends a sentence rather than the address before it.
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']'];

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>\n"),
            c => out.push(c),
        }
    }
}

/// `body` as safe HTML: escaped, line breaks as `<br>`, and each `http://`
/// or `https://` address a link.
pub fn to_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    let mut rest = body;
    loop {
        let next = ["https://", "http://"].iter().filter_map(|scheme| rest.find(scheme)).min();
        let Some(start) = next else { break };
        escape_into(&mut out, &rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(ends_address).unwrap_or(tail.len());
        let address = tail[..end].trim_end_matches(TRAILING);
        let scheme_only = address.ends_with("://");
        if scheme_only {
            escape_into(&mut out, address);
        } else {
            out.push_str("<a href=\"");
            escape_into(&mut out, address);
            out.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
            escape_into(&mut out, address);
            out.push_str("</a>");
        }
        rest = &tail[address.len()..];
    }
    escape_into(&mut out, rest);
    out
}

/// `body` as safe HTML with line breaks, each word that starts with one of
/// `words` (lower-case ASCII, as a search has them) in `<mark>`.
pub fn highlighted(body: &str, words: &[String]) -> String {
    let mut out = String::with_capacity(body.len() + 32);
    let mut rest = body;
    while !rest.is_empty() {
        let word_end = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        if word_end == 0 {
            let c = rest.chars().next().map_or(1, char::len_utf8);
            escape_into(&mut out, &rest[..c]);
            rest = &rest[c..];
            continue;
        }
        let word = &rest[..word_end];
        let folded = deunicode_lower(word);
        if words.iter().any(|w| folded.starts_with(w.as_str())) {
            out.push_str("<mark>");
            escape_into(&mut out, word);
            out.push_str("</mark>");
        } else {
            escape_into(&mut out, word);
        }
        rest = &rest[word_end..];
    }
    out
}

/// A word as search terms are: lower-case, accents folded to ASCII.
fn deunicode_lower(word: &str) -> String {
    dossier_domain::text::words(word).collect::<Vec<_>>().join("")
}

#[cfg(test)]
mod tests {
    use super::{highlighted, to_html};

    #[test]
    fn search_words_are_marked_and_nothing_else_is_markup() {
        let words = vec!["boil".to_owned(), "muller".to_owned()];
        assert_eq!(highlighted("Boiler <b>fixed</b> for Müller\nok", &words), "<mark>Boiler</mark> &lt;b&gt;fixed&lt;/b&gt; for <mark>Müller</mark><br>\nok");
        assert_eq!(highlighted("no match here", &words), "no match here");
    }

    #[test]
    fn markup_is_shown_not_rendered() {
        assert_eq!(to_html("<script>alert('x')</script> & <b>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;");
        assert_eq!(to_html("one\ntwo"), "one<br>\ntwo");
    }

    #[test]
    fn web_addresses_become_links_and_nothing_else_does() {
        assert_eq!(
            to_html("See https://example.com/a?b=1&c=2."),
            "See <a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">https://example.com/a?b=1&amp;c=2</a>."
        );
        assert_eq!(to_html("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(to_html("http://\"onmouseover=x"), "http://&quot;onmouseover=x");
        assert!(to_html("(http://a.example/x)").starts_with("(<a href=\"http://a.example/x\""));
        assert_eq!(to_html("go to http://"), "go to http://");
    }
}
