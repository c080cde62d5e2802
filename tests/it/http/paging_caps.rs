//! An API that caps page sizes, announces more records than it sends, or links to another
//! host: each fails the pull and leaves `feeds/` as it was, never publishing part of the
//! catalog.

use super::*;

/// The basic catalog built once from its CSV export, then switched to `erp` over HTTP.
fn built_then_switched_to(erp: &str) -> (Catalog, Vec<(std::path::PathBuf, Vec<u8>)>) {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let before = catalog.feeds_snapshot();
    catalog.write("pim.toml", &catalog_with_erp(erp).read("pim.toml"));
    (catalog, before)
}

/// A server that honours `offset` (or `page`) but never sends more than `cap` records.
fn capping_server(cap: usize, by_page: bool) -> Server {
    let records = api_records(&Catalog::fixture("basic"));
    Server::start(move |request, _| {
        let size: usize = request
            .query("limit")
            .or(request.query("size"))
            .unwrap()
            .parse()
            .unwrap();
        let take = size.min(cap);
        let from = match by_page {
            false => request.query("offset").unwrap().parse().unwrap(),
            true => (request.query("page").unwrap().parse::<usize>().unwrap() - 1) * take,
        };
        ok(json!(
            records
                .iter()
                .skip(from)
                .take(take)
                .cloned()
                .collect::<Vec<_>>()
        ))
    })
}

#[test]
fn a_server_that_caps_the_page_size_fails_the_pull() {
    let cases = [
        ("offset", "size_param = \"limit\"\n", false, 1),
        ("offset", "size_param = \"limit\"\n", false, 4),
        ("page", "", true, 1),
        ("page", "", true, 4),
    ];
    for (kind, extra, by_page, concurrency) in cases {
        let server = capping_server(2, by_page);
        let (catalog, before) = built_then_switched_to(&format!(
            "url = \"{}\"\nconcurrency = {concurrency}\n[erp.paging]\nkind = \"{kind}\"\nsize = 5\n{extra}",
            server.url("/items")
        ));
        let run = catalog.run(&["build"]).expect(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("caps the page size") && stderr.contains("set `size = 2`"),
            "{kind}, concurrency {concurrency}:\n{stderr}"
        );
        assert_eq!(catalog.feeds_snapshot(), before, "{kind}: feeds unchanged");
    }
}

#[test]
fn a_server_whose_cap_fits_the_size_asked_for_is_read_whole() {
    let server = capping_server(2, false);
    let (catalog, _) = built_then_switched_to(&format!(
        "url = \"{}\"\n[erp.paging]\nkind = \"offset\"\nsize = 2\nsize_param = \"limit\"\n",
        server.url("/items")
    ));
    catalog.run(&["build"]).expect(0);
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["erp"]["records"], 6);
}

#[test]
fn an_announced_total_that_is_not_reached_fails_the_pull() {
    let records = api_records(&Catalog::fixture("basic"));
    let pages = odata_pages(records.clone(), 4);
    let odata = Server::start(move |request, number| {
        let mut reply = pages(request, number);
        let mut body: Value = serde_json::from_str(&reply.body).unwrap();
        body["@odata.count"] = json!(350);
        reply.body = body.to_string();
        reply
    });
    let (catalog, before) = built_then_switched_to(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\n",
        odata.url("/Products")
    ));
    let stderr = catalog.run(&["build"]).expect(2).stderr();
    assert!(
        stderr.contains("announced 350 records (@odata.count) but the pages held 6"),
        "{stderr}"
    );
    assert_eq!(catalog.feeds_snapshot(), before);

    let headed = Server::start(move |_, _| {
        let mut reply = ok(json!(records));
        reply.headers.push(("X-Total-Count".into(), "9".into()));
        reply
    });
    let (catalog, before) =
        built_then_switched_to(&format!("url = \"{}\"\n", headed.url("/items")));
    let stderr = catalog.run(&["build"]).expect(2).stderr();
    assert!(
        stderr.contains("announced 9 records (X-Total-Count)"),
        "{stderr}"
    );
    assert_eq!(catalog.feeds_snapshot(), before);
}

#[test]
fn a_next_link_to_another_host_is_refused_unless_allowed() {
    let records = api_records(&Catalog::fixture("basic"));
    let rest = records[3..].to_vec();
    let elsewhere = Server::start(move |_, _| ok(json!({ "value": rest })));
    let next = elsewhere.url("/collect");
    let first =
        Server::start(move |_, _| ok(json!({ "value": records[..3], "@odata.nextLink": next })));
    let erp = format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\n[erp.auth]\nkind = \"bearer\"\ntoken_env = \"PIMFEED_TEST_TOKEN\"\n",
        first.url("/Products")
    );
    let (catalog, before) = built_then_switched_to(&erp);
    let env = [("PIMFEED_TEST_TOKEN", "t0ken-123")];
    let stderr = catalog.run_env(&["build"], &env).expect(2).stderr();
    assert!(stderr.contains("another host"), "{stderr}");
    assert!(stderr.contains("allowed_hosts"), "{stderr}");
    assert!(elsewhere.requests().is_empty(), "nothing was sent there");
    assert_eq!(catalog.feeds_snapshot(), before);

    let allowed = catalog.read("pim.toml").replace(
        "preset = \"odata-v4\"\n",
        "preset = \"odata-v4\"\nallowed_hosts = [\"127.0.0.1\"]\n",
    );
    catalog.write("pim.toml", &allowed);
    catalog.run_env(&["build"], &env).expect(0);
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["erp"]["records"], 6);
    assert_eq!(elsewhere.requests().len(), 1);
}
