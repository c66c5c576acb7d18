//! Authorization decision cost.
//!
//! Targets (issue 3), all measured in this one run:
//! * with 1,000 rules, a full decision (canonicalize the path, match it, pick the method's rule,
//!   evaluate a role requirement) costs at most 2x a bare `matchit` lookup in the same table;
//! * the cost stays flat across 10, 1,000 and 10,000 rules;
//! * casbin-rs `enforce` on an equivalent RBAC + keyMatch2 policy, for the ratio. casbin scans its
//!   policy linearly and building large policies is slow, so it is measured at 10 and 1,000 rules
//!   (10,000 would only make the ratio larger).

use std::hint::black_box;

use casbin::prelude::*;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::Method;
use safeguard::Principal;
use safeguard::authz::{Requirement, RuleSet};

const SIZES: [usize; 3] = [10, 1_000, 10_000];
const CASBIN_SIZES: [usize; 2] = [10, 1_000];

fn template(i: usize) -> String {
    format!("/svc{i}/items/{{id}}")
}

fn rules(n: usize) -> RuleSet {
    let mut b = RuleSet::builder();
    for i in 0..n {
        b = b.rule(
            &format!("r{i}"),
            Method::GET,
            &template(i),
            Requirement::any_role([format!("role{}", i % 10)]),
        );
    }
    b.build().expect("rules")
}

fn matchit_router(n: usize) -> matchit::Router<u32> {
    let mut r = matchit::Router::new();
    for i in 0..n {
        r.insert(template(i), i as u32).expect("route");
    }
    r
}

fn casbin_enforcer(n: usize) -> Enforcer {
    let model = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
"#;
    let mut policy = String::new();
    for i in 0..n {
        policy.push_str(&format!("p, role{}, /svc{i}/items/:id, GET\n", i % 10));
    }
    policy.push_str("g, alice, role5\n");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let model = DefaultModel::from_str(model).await.expect("model");
        let adapter = StringAdapter::new(policy);
        Enforcer::new(model, adapter).await.expect("enforcer")
    })
}

fn bench(c: &mut Criterion) {
    let alice = Principal::new("alice").with_role("role5");
    let mut group = c.benchmark_group("authorize");
    for n in SIZES {
        // A path in the middle of the table, allowed for alice (role5).
        let target = n / 2 - (n / 2) % 10 + 5;
        let path = format!("/svc{target}/items/42");
        let router = matchit_router(n);
        let rules = rules(n);
        assert!(
            rules
                .decide(&Method::GET, &path, Some(&alice))
                .now()
                .expect("sync")
                .is_allowed()
        );

        group.bench_with_input(BenchmarkId::new("matchit_lookup", n), &path, |b, path| {
            b.iter(|| black_box(router.at(black_box(path)).map(|m| *m.value).ok()))
        });
        group.bench_with_input(BenchmarkId::new("decide_path", n), &path, |b, path| {
            b.iter(|| {
                black_box(
                    rules
                        .decide(&Method::GET, black_box(path), Some(&alice))
                        .now()
                        .map(|v| v.is_allowed()),
                )
            })
        });
        // What the layer does inside an axum router: look the rule up by `MatchedPath`.
        let route = template(target);
        group.bench_with_input(
            BenchmarkId::new("decide_matched_path", n),
            &route,
            |b, route| {
                b.iter(|| {
                    let rule = rules
                        .rule_for_route(&Method::GET, black_box(route))
                        .expect("rule");
                    let info = safeguard::authz::RequestInfo::new(
                        &Method::GET,
                        rule.route(),
                        Some(&alice),
                        &[],
                    );
                    black_box(
                        rule.requirement()
                            .evaluate(&info)
                            .now()
                            .map(|v| v.is_allowed()),
                    )
                })
            },
        );
        if CASBIN_SIZES.contains(&n) {
            let e = casbin_enforcer(n);
            assert!(e.enforce(("alice", path.as_str(), "GET")).expect("enforce"));
            group.bench_with_input(BenchmarkId::new("casbin_enforce", n), &path, |b, path| {
                b.iter(|| black_box(e.enforce(("alice", black_box(path.as_str()), "GET")).ok()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
