//! Property tests for the JSON rewriter: random documents with secrets planted under classified
//! keys (plain, escaped, case and separator variants, nested, in arrays, duplicated), split into
//! chunks every which way.

use proptest::prelude::*;
use safeguard::DataClass;
use safeguard::json::{Config, Redactor};
use safeguard::policy::{Action, ClassRule, Policy};
use serde_json::{Map, Value};

/// Classified base names and whether their class is Credential (removed in remove mode).
const CLASSIFIED: &[(&str, bool)] = &[
    ("password", true),
    ("api_key", true),
    ("access_token", true),
    ("card_number", false),
    ("ssn", false),
    ("email", false),
    ("date_of_birth", false),
];

/// Plain keys: none of them is classified by the default policy (checked below).
const PLAIN: &[&str] = &[
    "id", "city", "items", "meta", "title", "x", "count", "note", "kind",
];

#[derive(Clone, Debug)]
enum Secret {
    Str,
    Num,
    Bool,
    Null,
    Obj,
    Arr,
}

#[derive(Clone, Debug)]
enum Node {
    Obj(Vec<Member>),
    Arr(Vec<Node>),
    Str(String),
    Num(String),
    Bool(bool),
    Null,
}

#[derive(Clone, Debug)]
enum Member {
    Plain(usize, Node),
    Classified {
        base: usize,
        variant: u8,
        at: usize,
        secret: String,
        shape: Secret,
    },
}

fn secret_strategy() -> impl Strategy<Value = String> {
    "[A-Y0-9]{10,14}".prop_map(|s| format!("Zq{s}"))
}

fn shape_strategy() -> impl Strategy<Value = Secret> {
    prop_oneof![
        4 => Just(Secret::Str),
        1 => Just(Secret::Num),
        1 => Just(Secret::Bool),
        1 => Just(Secret::Null),
        1 => Just(Secret::Obj),
        1 => Just(Secret::Arr),
    ]
}

fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        "[a-y0-9 .,é€\"\\\\\n\t/]{0,12}".prop_map(Node::Str),
        (-1_000_000i64..1_000_000).prop_map(|n| Node::Num(n.to_string())),
        prop::sample::select(vec![
            "0",
            "-0",
            "0.5",
            "-1.25e3",
            "1E-7",
            "6.02e+23",
            "1234567.125"
        ])
        .prop_map(|s| Node::Num(s.to_owned())),
        any::<bool>().prop_map(Node::Bool),
        Just(Node::Null),
    ]
}

fn member(node: BoxedStrategy<Node>) -> impl Strategy<Value = Member> {
    prop_oneof![
        3 => (0..PLAIN.len(), node).prop_map(|(k, n)| Member::Plain(k, n)),
        1 => (0..CLASSIFIED.len(), 0u8..7, 0usize..32, secret_strategy(), shape_strategy()).prop_map(
            |(base, variant, at, secret, shape)| Member::Classified { base, variant, at, secret, shape }
        ),
    ]
}

fn doc() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(member(inner.clone().boxed()), 0..6).prop_map(Node::Obj),
            prop::collection::vec(inner, 0..5).prop_map(Node::Arr),
        ]
    })
}

/// Wraps any generated tree in an object with at least one classified member, so every case
/// plants a secret.
fn doc_with_secret() -> impl Strategy<Value = Node> {
    (doc(), member(doc().boxed()), secret_strategy(), 0u8..7).prop_map(|(a, b, secret, variant)| {
        Node::Obj(vec![
            Member::Plain(0, a),
            Member::Classified {
                base: 0,
                variant,
                at: 3,
                secret,
                shape: Secret::Str,
            },
            b,
        ])
    })
}

/// The key as written in JSON (inside the quotes) and as decoded.
fn key_variant(base: &str, variant: u8, at: usize) -> (String, String) {
    let words: Vec<&str> = base.split('_').collect();
    let decoded = match variant {
        0 | 4 => base.to_owned(),
        1 => base.to_uppercase(),
        2 => {
            let mut s = words[0].to_owned();
            for w in &words[1..] {
                s.push_str(&w[..1].to_uppercase());
                s.push_str(&w[1..]);
            }
            s
        }
        3 => words.join("-"),
        5 => words
            .iter()
            .map(|w| format!("{}{}", w[..1].to_uppercase(), &w[1..]))
            .collect::<Vec<_>>()
            .join(" "),
        _ => base.to_uppercase(),
    };
    let raw = if variant == 4 || variant == 6 {
        // One character written as a \u escape.
        let chars: Vec<char> = decoded.chars().collect();
        let at = at % chars.len();
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == at {
                    if variant == 4 {
                        format!("\\u{:04x}", *c as u32)
                    } else {
                        format!("\\u{:04X}", *c as u32)
                    }
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        decoded.clone()
    };
    (raw, decoded)
}

fn secret_value(secret: &str, shape: &Secret) -> String {
    let digits: String = secret.bytes().map(|b| char::from(b'1' + b % 9)).collect();
    match shape {
        Secret::Str => format!("\"{secret}\""),
        Secret::Num => format!("9{digits}"),
        Secret::Bool => "true".to_owned(),
        Secret::Null => "null".to_owned(),
        Secret::Obj => {
            format!("{{\"inner\":\"{secret}\",\"n\":[\"{secret}\",{{\"deep\":\"{secret}\"}}]}}")
        }
        Secret::Arr => format!("[\"{secret}\",{{\"k\":\"{secret}\"}},[]]"),
    }
}

struct Built {
    text: String,
    expected: Value,
    secrets: Vec<String>,
}

fn build(node: &Node, ws: &str, remove: bool, secrets: &mut Vec<String>) -> (String, Value) {
    match node {
        Node::Str(s) => (serde_json::to_string(s).unwrap(), Value::String(s.clone())),
        Node::Num(n) => (n.clone(), serde_json::from_str(n).unwrap()),
        Node::Bool(b) => (b.to_string(), Value::Bool(*b)),
        Node::Null => ("null".to_owned(), Value::Null),
        Node::Arr(items) => {
            let mut text = String::from("[");
            let mut values = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                    text.push_str(ws);
                }
                let (t, v) = build(item, ws, remove, secrets);
                text.push_str(&t);
                values.push(v);
            }
            text.push(']');
            (text, Value::Array(values))
        }
        Node::Obj(members) => {
            let mut text = String::from("{");
            text.push_str(ws);
            let mut map = Map::new();
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    text.push_str(ws);
                    text.push(',');
                }
                match m {
                    Member::Plain(k, n) => {
                        // Unique plain keys, so the expected map has no duplicates.
                        let key = format!("{}{}", PLAIN[*k], i);
                        let (t, v) = build(n, ws, remove, secrets);
                        text.push_str(&format!("\"{key}\"{ws}:{ws}{t}"));
                        map.insert(key, v);
                    }
                    Member::Classified {
                        base,
                        variant,
                        at,
                        secret,
                        shape,
                    } => {
                        let (name, credential) = CLASSIFIED[*base];
                        let (raw, decoded) = key_variant(name, *variant, *at);
                        text.push_str(&format!("\"{raw}\":{ws}{}", secret_value(secret, shape)));
                        if !matches!(shape, Secret::Bool | Secret::Null) {
                            secrets.push(secret.clone());
                        }
                        if !(remove && credential) {
                            map.insert(decoded, Value::Null);
                        }
                    }
                }
            }
            text.push('}');
            (text, Value::Object(map))
        }
    }
}

fn built(node: &Node, ws: &str, remove: bool) -> Built {
    let mut secrets = Vec::new();
    let (text, expected) = build(node, ws, remove, &mut secrets);
    Built {
        text,
        expected,
        secrets,
    }
}

fn policy(remove: bool) -> Policy {
    let builder = Policy::builder().without_detectors();
    if remove {
        builder
            .class(
                DataClass::Credential,
                ClassRule::new(Action::Remove).never_reveal(),
            )
            .build()
            .unwrap()
    } else {
        builder.build().unwrap()
    }
}

fn run_split(policy: &Policy, config: &Config, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut r = Redactor::with_config(policy.view(None), config.clone());
    let mut out = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(last, input.len());
        r.feed(&input[last..cut], &mut out)
            .expect("valid input must redact");
        last = cut;
    }
    r.finish(&mut out).expect("complete input must finish");
    out
}

fn check(policy: &Policy, config: &Config, b: &Built, cuts: &[usize]) -> Result<(), TestCaseError> {
    let input = b.text.as_bytes();
    let whole = run_split(policy, config, input, &[]);
    let parsed: Value = serde_json::from_slice(&whole)
        .map_err(|e| TestCaseError::fail(format!("output does not parse: {e}")))?;
    prop_assert_eq!(&parsed, &b.expected, "input {}", b.text);
    for secret in &b.secrets {
        prop_assert!(
            !contains(&whole, secret.as_bytes()),
            "secret {} leaked",
            secret
        );
    }
    let mut sorted = cuts.to_vec();
    sorted.sort_unstable();
    prop_assert_eq!(&run_split(policy, config, input, &sorted), &whole);
    let bytewise: Vec<usize> = (1..input.len()).collect();
    prop_assert_eq!(&run_split(policy, config, input, &bytewise), &whole);
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn plain_vocabulary_is_unclassified() {
    let policy = Policy::default();
    for key in PLAIN {
        for i in 0..8 {
            assert!(
                policy.classify_name(&format!("{key}{i}")).is_none(),
                "{key}"
            );
        }
    }
    for (name, _) in CLASSIFIED {
        for variant in 0..7 {
            let (_, decoded) = key_variant(name, variant, 2);
            assert!(policy.classify_name(&decoded).is_some(), "{decoded}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn redaction_is_split_invariant_and_leak_free(
        node in doc_with_secret(),
        ws in prop::sample::select(vec!["", " ", "\n  ", "\t"]),
        remove in any::<bool>(),
        cuts in prop::collection::vec(0usize..4096, 0..12),
    ) {
        let b = built(&node, ws, remove);
        let cuts: Vec<usize> = cuts.into_iter().map(|c| c % (b.text.len() + 1)).collect();
        check(&policy(remove), &Config::default(), &b, &cuts)?;
    }

    #[test]
    fn ndjson_lines_are_redacted_one_by_one(
        nodes in prop::collection::vec(doc_with_secret(), 1..4),
        cuts in prop::collection::vec(0usize..8192, 0..8),
    ) {
        let policy = policy(false);
        let docs: Vec<Built> = nodes.iter().map(|n| built(n, " ", false)).collect();
        let input: String = docs.iter().map(|d| format!("{}\n", d.text)).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let out = run_split(&policy, &Config::lines(), input.as_bytes(), &cuts);
        let bytewise: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(&run_split(&policy, &Config::lines(), input.as_bytes(), &bytewise), &out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        prop_assert_eq!(lines.len(), docs.len());
        for (line, d) in lines.iter().zip(&docs) {
            let parsed: Value = serde_json::from_str(line).unwrap();
            prop_assert_eq!(&parsed, &d.expected);
            for secret in &d.secrets {
                prop_assert!(!line.contains(secret.as_str()));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_do_not_depend_on_splits(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        cut in 0usize..64,
    ) {
        let policy = Policy::default();
        let whole = Redactor::redact_slice(policy.view(None), Config::default(), &bytes);
        let mut r = Redactor::new(policy.view(None));
        let mut out = Vec::new();
        let cut = cut.min(bytes.len());
        let split = r
            .feed(&bytes[..cut], &mut out)
            .and_then(|_| r.feed(&bytes[cut..], &mut out))
            .and_then(|_| r.finish(&mut out))
            .map(|_| out);
        match (whole, split) {
            (Ok((a, _)), Ok(b)) => {
                prop_assert_eq!(&a, &b);
                prop_assert!(serde_json::from_slice::<Value>(&a).is_ok());
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind()),
            (a, b) => prop_assert!(false, "whole {:?} vs split {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts(
        bytes in prop::collection::vec(prop::sample::select(b"{}[]\",:01-.eE+tfnrulas\\ \n\xc3\xa9".to_vec()), 0..24),
    ) {
        let policy = Policy::builder().without_defaults().build().unwrap();
        let ours = Redactor::redact_slice(policy.view(None), Config::default(), &bytes);
        let theirs = serde_json::from_slice::<Value>(&bytes);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", String::from_utf8_lossy(&bytes));
        if let (Ok((out, _)), Ok(value)) = (ours, theirs) {
            prop_assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), value);
        }
    }
}
