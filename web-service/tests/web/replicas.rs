//! A backend with several replicas behind one name, as Swarm's DNS (`endpoint_mode: dnsrr`)
//! gives them: web-service spreads its calls over all of them, and one that stops costs no page.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Router, extract::Request, middleware::Next};
use test_support::{postgres::TestDatabase, redis::TestRedis};
use web_service::clients::replicas::Resolve;

use crate::{
    backends::{Backend, cutting_off},
    helpers::{
        api_app, assert_redirected_home, assets, counter_app, post_form, starting_counter_app,
        static_dir, views, web_app_resolving,
    },
};

const REPLICAS: u8 = 3;

/// `router`, counting the requests it serves in `served`.
fn counting(router: Router, served: Arc<AtomicUsize>) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            served.fetch_add(1, Ordering::Relaxed);
            next.run(request)
        },
    ))
}

/// Resolves every name to `addresses`, as a DNS server answers for a service's replicas.
fn resolving_to(addresses: Vec<SocketAddr>) -> Resolve {
    Arc::new(move |_| {
        let addresses = addresses.clone();
        Box::pin(async move { Ok(addresses) })
    })
}

#[tokio::test]
async fn page_views_are_spread_over_every_counter_replica_and_one_stopping_costs_no_page() {
    let database = TestDatabase::create().await;
    let redis = TestRedis::create();
    let api = Backend::start(api_app(&database).await).await;

    // The replicas share a port on 127.0.0.1, .2 and .3, as Swarm's tasks do on their own IPs.
    let counter = counter_app(redis.url(), redis.prefix()).await;
    let mut replicas = Vec::new();
    let mut served = Vec::new();
    let mut port = 0;
    for last in 1..=REPLICAS {
        let count = Arc::new(AtomicUsize::new(0));
        let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port);
        let replica = Backend::start_at(address, counting(counter.clone(), count.clone())).await;
        port = replica.address().port();
        replicas.push(replica);
        served.push(count);
    }
    let addresses = replicas.iter().map(Backend::address).collect();
    let web = web_app_resolving(
        &api.url(),
        &format!("http://db-service:{port}"),
        &assets(static_dir(), 3600),
        resolving_to(addresses),
    );

    let pages = 30;
    for page in 1..=pages {
        assert_eq!(views(&web.get("/").await), Some(page));
    }
    let counts: Vec<usize> = served.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    assert_eq!(
        counts,
        vec![10; usize::from(REPLICAS)],
        "each replica serves its turn of the {pages} page views"
    );

    // The name still gives the stopped replica's address: Swarm's DNS drops it moments later.
    replicas[1].stop().await;
    for page in pages + 1..=2 * pages {
        let reply = web.get("/").await;
        assert_eq!(
            views(&reply),
            Some(page),
            "a replica that stopped costs no page:\n{}",
            reply.text()
        );
    }
    let after: Vec<usize> = served.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    assert_eq!(after[1], counts[1], "the stopped replica served nothing");
    assert_eq!(
        after[0] + after[2] - counts[0] - counts[2],
        30,
        "the two others served every page"
    );
}

/// Resolves each `host:port` to the addresses `answers` gives for its port.
fn resolving_by_port(answers: Vec<(u16, Vec<SocketAddr>)>) -> Resolve {
    Arc::new(move |authority: String| {
        let port: u16 = authority.rsplit(':').next().unwrap().parse().unwrap();
        let addresses = answers
            .iter()
            .find(|(answered, _)| *answered == port)
            .map(|(_, addresses)| addresses.clone())
            .unwrap_or_default();
        Box::pin(async move { Ok(addresses) })
    })
}

#[tokio::test]
async fn a_call_cut_off_is_sent_again_only_if_idempotent_and_the_replica_is_then_skipped() {
    let database = TestDatabase::create().await;
    let redis = TestRedis::create();
    // Each backend has two replicas: a real one on 127.0.0.2, and on 127.0.0.1 (called first,
    // addresses are taken in order) one that drops every call it has read.
    let second = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port);
    let api = Backend::start_at(second(0), api_app(&database).await).await;
    let counter =
        Backend::start_at(second(0), counter_app(redis.url(), redis.prefix()).await).await;
    let cut_off = Arc::new(AtomicUsize::new(0));
    let mut answers = Vec::new();
    for real in [api.address(), counter.address()] {
        let dying = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), real.port());
        cutting_off(dying, cut_off.clone()).await;
        answers.push((real.port(), vec![dying, real]));
    }
    let web = web_app_resolving(
        &format!("http://api-service:{}", api.address().port()),
        &format!("http://db-service:{}", counter.address().port()),
        &assets(static_dir(), 3600),
        resolving_by_port(answers),
    );

    // The first page's two calls are cut off. GET /tasks is sent again, to the real replica;
    // POST /hits/home is not: the dying replica may have counted the view.
    let first = web.get("/").await;
    assert_eq!(cut_off.load(Ordering::Relaxed), 2);
    assert!(
        !first.text().contains("tasks-unavailable"),
        "the task list was fetched again:\n{}",
        first.text()
    );
    assert_eq!(views(&first), None, "the view was not counted again");

    // Then the dying replicas are skipped: every page and form is whole.
    assert_redirected_home(&post_form(&web, "/tasks", &[("title", "added")]).await);
    for expected in 1..=5 {
        let page = web.get("/").await;
        assert_eq!(views(&page), Some(expected), "{}", page.text());
        assert!(page.text().contains("added"));
    }
    assert_eq!(
        cut_off.load(Ordering::Relaxed),
        2,
        "no call went to a dying replica again"
    );
}

#[tokio::test]
async fn a_replica_that_answers_503_costs_no_task_list_which_is_asked_of_another() {
    let database = TestDatabase::create().await;
    let redis = TestRedis::create();
    let second = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port);
    let api = Backend::start_at(second(0), api_app(&database).await).await;
    let counter = Backend::start(counter_app(redis.url(), redis.prefix()).await).await;
    // On 127.0.0.1, called first: a replica still starting, as a new task is for a moment.
    let asked = Arc::new(AtomicUsize::new(0));
    let starting = Router::new().fallback({
        let asked = asked.clone();
        move || {
            asked.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::SERVICE_UNAVAILABLE }
        }
    });
    let _starting = Backend::start_at(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), api.address().port()),
        starting,
    )
    .await;
    let web = web_app_resolving(
        &format!("http://api-service:{}", api.address().port()),
        &counter.url(),
        &assets(static_dir(), 3600),
        resolving_by_port(vec![(
            api.address().port(),
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), api.address().port()),
                api.address(),
            ],
        )]),
    );
    for _ in 0..4 {
        let page = web.get("/").await;
        assert!(
            !page.text().contains("tasks-unavailable"),
            "{}",
            page.text()
        );
    }
    assert!(
        asked.load(Ordering::Relaxed) >= 2,
        "the starting replica had its turns"
    );
}

#[tokio::test]
async fn a_view_a_starting_replica_turned_away_is_counted_by_another_and_it_is_then_left_alone() {
    let database = TestDatabase::create().await;
    let redis = TestRedis::create();
    let api = Backend::start(api_app(&database).await).await;
    let on = |last, port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port);
    let counter = Backend::start_at(on(2, 0), counter_app(redis.url(), redis.prefix()).await).await;
    // As during a rolling update, in the order they are called (the turns skip what is left
    // out): on 127.0.0.1 a new replica that has not reached Redis yet, on .3 an old one gone
    // (nothing listens), on .2 one that serves.
    let port = counter.address().port();
    let asked = Arc::new(AtomicUsize::new(0));
    let _starting =
        Backend::start_at(on(1, port), counting(starting_counter_app(), asked.clone())).await;
    let web = web_app_resolving(
        &api.url(),
        &format!("http://db-service:{port}"),
        &assets(static_dir(), 3600),
        resolving_by_port(vec![(
            port,
            vec![on(1, port), counter.address(), on(3, port)],
        )]),
    );

    // A POST is not idempotent, yet the view is sent on twice: neither replica acted on it.
    // Each view is counted once.
    for expected in 1..=5 {
        let page = web.get("/").await;
        assert_eq!(views(&page), Some(expected), "{}", page.text());
    }
    assert_eq!(
        asked.load(Ordering::Relaxed),
        1,
        "asked once, then left alone for its Retry-After"
    );
}
