//! Probable duplicates among an org's customers: pairs that share a
//! normalised email or phone, an address (postcode and first line), or
//! have the same or a similar name (accent-folded, Jaro–Winkler), each
//! with a score (0–100) and the reasons.
//!
//! The work is bounded: customers are grouped by blocking keys (each email,
//! each phone, each address, a folded-name prefix) and only customers that
//! share a key are compared, never all pairs. A key shared by more than
//! [`MAX_BLOCK`] customers (a shared office line, a common surname prefix)
//! says little and is skipped.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use crate::text::words;

/// Customers sharing one key that are still compared pairwise.
pub const MAX_BLOCK: usize = 50;

/// How similar (Jaro–Winkler, 0–1) two folded names must be to count:
/// the family names, and the given names (the less alike of the two).
pub const SIMILAR_NAME: f64 = 0.9;

/// What is known of one customer for finding its duplicates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Candidate {
    pub id: Uuid,
    pub code: String,
    pub display_name: String,
    /// The person's given name and family name, or the business's name
    /// (as the family name).
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Normalised (stored) emails and E.164 phones of the customer and its contacts.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// (postcode, first address line) of its sites.
    pub addresses: Vec<(String, String)>,
}

/// Why two customers look like one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    SameEmail {
        email: String,
    },
    SamePhone {
        phone: String,
    },
    SameAddress {
        postcode: String,
        line1: String,
    },
    SameName {
        name: String,
    },
    /// Names alike after folding accents and case; `similarity` in percent.
    SimilarName {
        similarity: u8,
    },
}

impl Reason {
    /// What the reason adds to a pair's score.
    pub fn weight(&self) -> u32 {
        match self {
            Reason::SameEmail { .. } => 50,
            Reason::SamePhone { .. } => 40,
            Reason::SameAddress { .. } => 35,
            Reason::SameName { .. } => 30,
            Reason::SimilarName { .. } => 20,
        }
    }

    /// The reason in words.
    pub fn describe(&self) -> String {
        match self {
            Reason::SameEmail { email } => format!("Same email ({email})"),
            Reason::SamePhone { phone } => format!("Same phone ({phone})"),
            Reason::SameAddress { postcode, line1 } => format!("Same address ({line1}, {postcode})"),
            Reason::SameName { name } => format!("Same name ({name})"),
            Reason::SimilarName { similarity } => format!("Similar name ({similarity}% alike)"),
        }
    }
}

/// Two customers (indexes into the candidates) that are probably one,
/// `a` before `b` by code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub a: usize,
    pub b: usize,
    /// 0–100: the reasons' weights, summed and capped.
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// A name folded for comparing: its words lower-case, accents folded to
/// ASCII, family name first (`José Núñez` → `nunez jose`).
pub fn folded_name(given: Option<&str>, family: Option<&str>) -> String {
    let family: Vec<String> = family.map(|f| words(f).collect()).unwrap_or_default();
    let given: Vec<String> = given.map(|g| words(g).collect()).unwrap_or_default();
    family.into_iter().chain(given).collect::<Vec<_>>().join(" ")
}

/// Postcode and first line as compared: folded words, without spaces in
/// the postcode (`LS1 4AP`, `1 High St.` → `ls14ap`, `1 high st`).
pub fn address_key(postcode: &str, line1: &str) -> Option<(String, String)> {
    let postcode: String = words(postcode).collect();
    let line1 = words(line1).collect::<Vec<_>>().join(" ");
    (!postcode.is_empty() && !line1.is_empty()).then_some((postcode, line1))
}

/// The blocking keys of a candidate: only candidates sharing one are compared.
fn keys(c: &Candidate) -> Vec<String> {
    let mut keys: Vec<String> = c.emails.iter().map(|e| format!("e:{e}")).collect();
    keys.extend(c.phones.iter().map(|p| format!("p:{p}")));
    keys.extend(c.addresses.iter().filter_map(|(postcode, line1)| address_key(postcode, line1)).map(|(p, l)| format!("a:{p}|{l}")));
    // Two name keys, so a typo early in either name still meets its twin
    // through the other: the family name's first three letters with the
    // given name's initial, and the other way round.
    let family: String = c.family_name.as_deref().map(|f| words(f).collect()).unwrap_or_default();
    let given: String = c.given_name.as_deref().map(|g| words(g).collect()).unwrap_or_default();
    let prefix = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    if !family.is_empty() {
        keys.push(format!("n:{}|{}", prefix(&family, 3), prefix(&given, 1)));
    }
    if !given.is_empty() && !family.is_empty() {
        keys.push(format!("g:{}|{}", prefix(&given, 3), prefix(&family, 1)));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Why `a` and `b` look like one customer; empty when they do not.
pub fn reasons(a: &Candidate, b: &Candidate) -> Vec<Reason> {
    let mut out = Vec::new();
    for email in &a.emails {
        if b.emails.contains(email) {
            out.push(Reason::SameEmail { email: email.clone() });
        }
    }
    for phone in &a.phones {
        if b.phones.contains(phone) {
            out.push(Reason::SamePhone { phone: phone.clone() });
        }
    }
    let theirs: HashSet<(String, String)> = b.addresses.iter().filter_map(|(p, l)| address_key(p, l)).collect();
    for (postcode, line1) in &a.addresses {
        if address_key(postcode, line1).is_some_and(|key| theirs.contains(&key)) {
            out.push(Reason::SameAddress { postcode: postcode.clone(), line1: line1.clone() });
        }
    }
    let (name_a, name_b) = (folded_name(a.given_name.as_deref(), a.family_name.as_deref()), folded_name(b.given_name.as_deref(), b.family_name.as_deref()));
    if !name_a.is_empty() && name_a == name_b {
        out.push(Reason::SameName { name: a.display_name.clone() });
    } else if !name_a.is_empty() && !name_b.is_empty() {
        // Each name on its own: Jaro–Winkler rewards a shared beginning, so
        // whole names sharing a family name would all look alike.
        let part = |a: Option<&str>, b: Option<&str>| match (a.map(|n| folded_name(None, Some(n))), b.map(|n| folded_name(None, Some(n)))) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => strsim::jaro_winkler(&a, &b),
            (None, None) => 1.0,
            _ => 0.0,
        };
        let similarity = part(a.family_name.as_deref(), b.family_name.as_deref()).min(part(a.given_name.as_deref(), b.given_name.as_deref()));
        if similarity >= SIMILAR_NAME {
            out.push(Reason::SimilarName { similarity: (similarity * 100.0).floor() as u8 });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The probable duplicates among `candidates`, best first (then by the
/// codes), leaving out the `dismissed` pairs (ids in either order).
pub fn suggest(candidates: &[Candidate], dismissed: &HashSet<(Uuid, Uuid)>) -> Vec<Suggestion> {
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        for key in keys(candidate) {
            blocks.entry(key).or_default().push(i);
        }
    }
    let mut pairs: BTreeMap<(usize, usize), ()> = BTreeMap::new();
    for members in blocks.values().filter(|m| m.len() > 1 && m.len() <= MAX_BLOCK) {
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                let (a, b) = if candidates[i].code <= candidates[j].code { (i, j) } else { (j, i) };
                pairs.insert((a, b), ());
            }
        }
    }
    let mut out: Vec<Suggestion> = pairs
        .into_keys()
        .filter(|&(a, b)| {
            let (x, y) = (candidates[a].id, candidates[b].id);
            !dismissed.contains(&(x, y)) && !dismissed.contains(&(y, x))
        })
        .filter_map(|(a, b)| {
            let reasons = reasons(&candidates[a], &candidates[b]);
            let score = reasons.iter().map(Reason::weight).sum::<u32>().min(100) as u8;
            (!reasons.is_empty()).then_some(Suggestion { a, b, score, reasons })
        })
        .collect();
    out.sort_by(|x, y| y.score.cmp(&x.score).then_with(|| (&candidates[x.a].code, &candidates[x.b].code).cmp(&(&candidates[y.a].code, &candidates[y.b].code))));
    out
}

/// A pair in id order, as a dismissal stores it.
pub fn ordered(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(code: &str, given: &str, family: &str) -> Candidate {
        Candidate {
            id: Uuid::now_v7(),
            code: code.into(),
            display_name: format!("{given} {family}"),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            ..Candidate::default()
        }
    }

    #[test]
    fn names_are_folded_before_they_are_compared() {
        assert_eq!(folded_name(Some("José"), Some("Núñez-Ortiz")), "nunez ortiz jose");
        let a = person("CUS-00001", "José", "Núñez");
        let b = person("CUS-00002", "Jose", "NUNEZ");
        assert_eq!(reasons(&a, &b), [Reason::SameName { name: "José Núñez".into() }]);
    }

    #[test]
    fn similar_names_meet_through_their_blocking_key_and_score_by_jaro_winkler() {
        let a = person("CUS-00001", "Jonathan", "Smith");
        let b = person("CUS-00002", "Jonathon", "Smith");
        let c = person("CUS-00003", "Priya", "Patel");
        let found = suggest(&[a, b, c], &HashSet::new());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].a, found[0].b), (0, 1));
        assert!(matches!(found[0].reasons[..], [Reason::SimilarName { similarity }] if similarity >= 90));
        assert_eq!(found[0].score, 20);
    }

    #[test]
    fn a_shared_family_name_alone_is_not_a_similar_name() {
        let a = person("CUS-00001", "Jonathan", "Williams");
        let b = person("CUS-00002", "Jennifer", "Williams");
        assert!(reasons(&a, &b).is_empty(), "{:?}", reasons(&a, &b));
        let c = person("CUS-00003", "Jonathan", "Wiliams");
        assert!(matches!(reasons(&a, &c)[..], [Reason::SimilarName { .. }]));
    }

    #[test]
    fn email_phone_and_address_add_up_and_the_score_is_capped() {
        let mut a = person("CUS-00002", "Ann", "Lee");
        let mut b = person("CUS-00001", "Ann", "Lee");
        for c in [&mut a, &mut b] {
            c.emails = vec!["ann@example.com".into()];
            c.phones = vec!["+441132000000".into()];
        }
        a.addresses = vec![("LS1 4AP".into(), "1 High St.".into())];
        b.addresses = vec![("ls14ap".into(), "1 high st".into())];
        let found = suggest(&[a, b], &HashSet::new());
        assert_eq!((found[0].a, found[0].b), (1, 0), "ordered by code");
        assert_eq!(found[0].score, 100);
        let kinds: Vec<&str> = found[0]
            .reasons
            .iter()
            .map(|r| match r {
                Reason::SameEmail { .. } => "email",
                Reason::SamePhone { .. } => "phone",
                Reason::SameAddress { .. } => "address",
                Reason::SameName { .. } => "name",
                Reason::SimilarName { .. } => "similar",
            })
            .collect();
        assert_eq!(kinds, ["email", "phone", "address", "name"]);
    }

    #[test]
    fn a_dismissed_pair_is_not_suggested_again() {
        let mut a = person("CUS-00001", "Ann", "Lee");
        let mut b = person("CUS-00002", "Bob", "Kay");
        a.emails = vec!["office@example.com".into()];
        b.emails = vec!["office@example.com".into()];
        assert_eq!(suggest(&[a.clone(), b.clone()], &HashSet::new()).len(), 1);
        let dismissed: HashSet<(Uuid, Uuid)> = [(b.id, a.id)].into_iter().collect();
        assert!(suggest(&[a, b], &dismissed).is_empty());
    }

    #[test]
    fn a_key_shared_by_too_many_customers_is_not_compared_pairwise() {
        let crowd: Vec<Candidate> = (0..=MAX_BLOCK)
            .map(|i| {
                let mut c = person(&format!("CUS-{i:05}"), &format!("P{i}x"), &format!("Q{i}y"));
                c.phones = vec!["+441132000000".into()];
                c
            })
            .collect();
        assert!(suggest(&crowd, &HashSet::new()).is_empty());
        assert_eq!(suggest(&crowd[..2], &HashSet::new()).len(), 1);
    }
}
