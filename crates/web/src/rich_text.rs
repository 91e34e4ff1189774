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

#[cfg(test)]
mod tests {
    use super::to_html;

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
