//! `fab serve` over HTTP, as a browser would speak to it: log in (CSRF on the form, the session
//! cookie HttpOnly and SameSite=Strict), the queue, a job, approve with the password (the same
//! signature as the command line), the security headers, the failed-login limit, and a log that
//! names no patient. The browser itself drives the pages in `serve_browser.rs`.

mod lab;
mod serve_support;

use lab::{Lab, password};
use serve_support::*;

/// A lab with a job in review, its program and design attached.
fn lab_with_job() -> (Lab, String) {
    let lab = Lab::usual();
    let job = lab
        .ok(
            "tom",
            &["job", "new", "--rx", "fixtures/rx/foot-left-eva.rx"],
        )
        .trim()
        .to_string();
    lab.ok("tom", &["job", "advance", &job, "--to", "designing"]);
    lab.attach_design("tom", &job, None, "a");
    lab.ok("tom", &["job", "advance", &job, "--to", "review"]);
    (lab, job)
}

#[test]
fn a_prosthetist_logs_in_reviews_and_signs_in_the_browser_pages() {
    let (lab, job) = lab_with_job();
    let srv = Server::start(&lab);

    // nothing without a session, and every response carries the security headers
    let r = srv.req("GET", "/", "", &[]);
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    for r in [&r, &srv.req("GET", "/login", "", &[])] {
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        // scripts from this server only: no inline script, no other origin
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    assert_eq!(srv.req("GET", &format!("/job/{job}"), "", &[]).status, 303);

    // the login form's CSRF token must come back with its cookie
    let r = srv.req(
        "POST",
        "/login",
        "",
        &[
            ("csrf", "x"),
            ("name", "pat"),
            ("password", &password("pat")),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(cookie_value(&r, "fab_session").is_none());
    let (r, none) = srv.login("pat", "not pat's password");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("wrong user name or password") && none.is_none());
    let (r, session) = srv.login("pat", &password("pat"));
    assert_eq!(r.status, 303, "{}", r.body);
    let session = session.unwrap();
    // a forged cookie is no session
    assert_eq!(srv.req("GET", "/", "fab_session=forged", &[]).status, 303);

    // the queue: the job under review, linked by its number only
    let q = srv.req("GET", "/", &session, &[]);
    assert_eq!(q.status, 200);
    assert!(
        q.body
            .contains(&format!(r#"<a href="/job/{job}">{job}</a>"#)),
        "{}",
        q.body
    );
    assert!(q.body.contains("<h2>review (1)</h2>"), "{}", q.body);
    assert!(!q.body.contains("MRN"));

    // the job: what is signed, and the form; its CSRF token is required
    let page = srv.req("GET", &format!("/job/{job}"), &session, &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<ul id="to-sign">"#), "{}", page.body);
    let token = csrf(&page.body);
    let approve = format!("/job/{job}/approve");
    let r = srv.req(
        "POST",
        &approve,
        &session,
        &[("password", &password("pat"))],
    );
    assert_eq!(r.status, 403);
    let r = srv.req(
        "POST",
        &approve,
        &session,
        &[("csrf", &token), ("password", "a wrong password")],
    );
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("that is not pat&#39;s password"),
        "{}",
        r.body
    );
    assert!(
        lab.ok("pat", &["job", "show", &job])
            .contains("status: review")
    );
    let r = srv.req(
        "POST",
        &approve,
        &session,
        &[
            ("csrf", &token),
            ("password", &password("pat")),
            ("note", "fits"),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some(format!("/job/{job}").as_str()))
    );

    // the same signature as the command line's: fab job verify and audit agree
    let page = srv.req("GET", &format!("/job/{job}"), &session, &[]);
    assert!(
        page.body.contains(r#"<b id="status">approved</b>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("signed, approved for milling: program"));
    let nc = lab.dir.path().join(format!("{job}-a.nc"));
    let out = lab.ok("oli", &["job", "verify", &job, nc.to_str().unwrap()]);
    assert!(out.contains("signed by pat (prosthetist)"), "{out}");
    lab.ok("oli", &["job", "audit", &job]);

    // logging out ends the session (with the CSRF token)
    let r = srv.req("POST", "/logout", &session, &[("csrf", &csrf(&page.body))]);
    assert_eq!(r.status, 303);
    assert_eq!(srv.req("GET", "/", &session, &[]).status, 303);

    // the log: method, path and status; no patient, no password, no token
    let log = srv.stop().join("\n");
    assert!(
        log.contains(&format!("POST /job/{job}/approve 303")),
        "{log}"
    );
    for secret in ["MRN", &password("pat"), session.split('=').nth(1).unwrap()] {
        assert!(!log.contains(secret), "{log}");
    }
}

#[test]
fn the_web_keeps_the_roles_and_limits_failed_logins() {
    let (lab, job) = lab_with_job();
    let srv = Server::start(&lab);
    // a tech signs nothing, through the web either
    let (_, tom) = srv.login("tom", &password("tom"));
    let tom = tom.unwrap();
    let page = srv.req("GET", &format!("/job/{job}"), &tom, &[]);
    let r = srv.req(
        "POST",
        &format!("/job/{job}/approve"),
        &tom,
        &[("csrf", &csrf(&page.body)), ("password", &password("tom"))],
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("that takes a prosthetist"), "{}", r.body);
    // another session's CSRF token is not this one's
    let (_, pat) = srv.login("pat", &password("pat"));
    let r = srv.req(
        "POST",
        &format!("/job/{job}/changes"),
        &pat.unwrap(),
        &[("csrf", &csrf(&page.body)), ("note", "deeper heel cup")],
    );
    assert_eq!(r.status, 403);
    // five failed logins, then even the right password waits
    for _ in 0..5 {
        assert_eq!(srv.login("pat", "guess guess guess").0.status, 401);
    }
    let (r, s) = srv.login("pat", &password("pat"));
    assert_eq!(r.status, 429);
    assert!(s.is_none());
    assert!(
        lab.ok("pat", &["job", "show", &job])
            .contains("status: review")
    );
}

#[test]
fn without_tls_serve_stays_on_loopback_and_needs_a_database() {
    let (lab, _) = lab_with_job();
    for listen in ["0.0.0.0:0", "192.0.2.7:8080", "[::]:0"] {
        let o = lab
            .bare()
            .args(["serve", "--listen", listen])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{listen}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("loopback only") && err.contains("--tls-cert"),
            "{err}"
        );
    }
    let o = lab
        .bare()
        .env("FAB_DB", lab.dir.path().join("none.db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no job database"));
}

/// A certificate authority and a server certificate it signed for localhost and 127.0.0.1, as
/// PEM files in `dir`: (CA certificate PEM, server certificate path, key path).
fn certificates(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server-key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (ca_cert.pem(), cert_path, key_path)
}

/// One request over TLS to `addr`, trusting only `ca_pem`, for server name `name`.
fn https(ca_pem: &str, name: &str, addr: &str, path: &str) -> Result<Resp, String> {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        std::sync::Arc::new(config),
        name.to_string().try_into().unwrap(),
    )
    .unwrap();
    let sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(&request(addr, "GET", path, "", &[]))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // a server that closes without close_notify: what came is the whole response
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let version = tls.conn.protocol_version();
    let mut r = response(raw);
    r.headers
        .push(("x-test-tls".into(), format!("{version:?}")));
    Ok(r)
}

#[test]
fn over_tls_it_serves_https_beyond_loopback_with_a_secure_cookie() {
    let (lab, _) = lab_with_job();
    let (ca, cert, key) = certificates(lab.dir.path());
    // every address: allowed with TLS (the test reaches it on loopback)
    let srv = Server::start_with(
        &lab,
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(srv.scheme, "https");
    let port = srv.addr.rsplit(':').next().unwrap();
    let local = format!("127.0.0.1:{port}");
    let r = https(&ca, "localhost", &local, "/login").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#"id="login""#), "{}", r.body);
    assert_eq!(r.header("x-test-tls"), Some("Some(TLSv1_3)"));
    let set = set_cookie(&r, "fab_login").unwrap();
    assert!(set.contains("; Secure"), "{set}");
    assert!(
        r.header("strict-transport-security")
            .is_some_and(|v| v.contains("max-age="))
    );
    // a certificate for another name is refused by the client: the server's is checked
    assert!(https(&ca, "fab.example", &local, "/login").is_err());
    // and plain HTTP on the TLS port gets no page
    let mut s = std::net::TcpStream::connect(&local).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    use std::io::{Read, Write};
    s.write_all(&request(&local, "GET", "/login", "", &[]))
        .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    assert!(!String::from_utf8_lossy(&raw).contains("Log in"));
    // without TLS the cookie is not Secure (it could not be sent back over HTTP)
    let plain = Server::start(&lab);
    let r = plain.req("GET", "/login", "", &[]);
    assert!(!set_cookie(&r, "fab_login").unwrap().contains("Secure"));
    assert!(r.header("strict-transport-security").is_none());
}

#[test]
fn tls_files_are_checked_before_listening() {
    let (lab, _) = lab_with_job();
    let (_, cert, key) = certificates(lab.dir.path());
    let other = lab.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, _, other_key) = certificates(&other);
    let exits = |code: i32, args: &[&str]| {
        let o = lab
            .bare()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{args:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let run = |args: &[&str]| exits(1, args);
    let (c, k, ok) = (
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        other_key.to_str().unwrap(),
    );
    let e = run(&["--tls-cert", c, "--tls-key", ok]);
    assert!(e.contains("do not make a usable certificate"), "{e}");
    let e = run(&["--tls-cert", k, "--tls-key", k]);
    assert!(e.contains("no certificate in it"), "{e}");
    let e = run(&["--tls-cert", c, "--tls-key", c]);
    assert!(e.contains("no private key in it"), "{e}");
    let e = run(&["--tls-cert", "/nonexistent/cert.pem", "--tls-key", k]);
    assert!(e.contains("cannot read --tls-cert"), "{e}");
    // one without the other is a usage error (clap's exit status)
    let e = exits(2, &["--tls-cert", c]);
    assert!(e.contains("--tls-key"), "{e}");
}

/// 50 clients browse (queue and job pages) while 8 approve at once, two racing on each of four
/// jobs: no request fails, each job is signed exactly once (the other racer is refused), and
/// the chain and signatures audit. Times are the benchmark's (`benches/serve_load.rs`).
#[test]
fn fifty_browsing_and_eight_approving_at_once() {
    let (lab, jobs) = lab_with_jobs(4);
    let srv = Server::start(&lab);
    let load = load(&srv.addr, &jobs, 50, 6);
    assert!(load.errors.is_empty(), "{:#?}", load.errors);
    assert_eq!(load.pages.len(), 50 * 6);
    assert_eq!(load.approvals.len(), 8);
    assert_eq!(load.approved, jobs.len(), "each job signed once");
    for job in &jobs {
        let h: serde_json::Value =
            serde_json::from_str(&lab.ok("tom", &["job", "history", job, "--json"])).unwrap();
        let approvals: Vec<_> = h
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["to"] == "approved")
            .collect();
        assert_eq!(approvals.len(), 1, "{job}: {approvals:?}");
        assert_eq!(
            approvals[0]["note"]
                .as_str()
                .unwrap()
                .matches(" sha256 ")
                .count(),
            2
        );
    }
    let audit = lab.ok("tom", &["job", "audit"]);
    assert!(audit.contains("4 approval(s), 8 signature(s)"), "{audit}");
    drop(srv);
}

/// A view as the page's script reads it (`assets/serve/view3d.js`): the JSON head, the
/// positions and the depths (NaN: none).
struct View {
    head: serde_json::Value,
    positions: Vec<[f32; 3]>,
    depth: Vec<f32>,
}

fn view_of(bytes: &[u8]) -> View {
    assert_eq!(&bytes[..4], b"FABV");
    let u32_at = |k: usize| u32::from_le_bytes(bytes[k..k + 4].try_into().unwrap());
    assert_eq!(u32_at(4), 1);
    let len = u32_at(8) as usize;
    let head: serde_json::Value = serde_json::from_slice(&bytes[12..12 + len]).unwrap();
    let n = head["vertices"].as_u64().unwrap() as usize;
    let m = head["triangles"].as_u64().unwrap() as usize;
    let at = (12 + len).div_ceil(4) * 4;
    let f = |k: usize| f32::from_le_bytes(bytes[at + 4 * k..at + 4 * k + 4].try_into().unwrap());
    let positions = (0..n)
        .map(|i| [f(3 * i), f(3 * i + 1), f(3 * i + 2)])
        .collect();
    let depth = if head["depth"] == true {
        (0..n).map(|i| f(3 * n + i)).collect()
    } else {
        Vec::new()
    };
    let corners = at + 4 * (3 * n + depth.len());
    assert_eq!(bytes.len(), corners + 12 * m);
    for k in 0..3 * m {
        assert!((u32_at(corners + 4 * k) as usize) < n);
    }
    View {
        head,
        positions,
        depth,
    }
}

/// A one-foot Rx whose only modification lines are `mods`; its shell is formed over a milled
/// positive (polypropylene), so `fab plan` makes a foot positive.
fn rx(dir: &std::path::Path, name: &str, mods: &str) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "rx: foot-orthotic\npatient: MRN-5550{}\npractitioner: S. Okafor, CO\n\
             date: 2026-11-18\nside: left\nshell: polypropylene 3 mm\n{mods}",
            name.len()
        ),
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

/// A job planned by `fab plan --job` from the left fixture foot with `rx`, moved to review.
fn planned(lab: &Lab, rx: &str) -> String {
    let job = lab
        .ok("tom", &["job", "new", "--rx", rx])
        .trim()
        .to_string();
    lab.ok("tom", &["job", "advance", &job, "--to", "designing"]);
    let out = lab.dir.path().join(format!("{job}-left.nc"));
    lab.ok(
        "tom",
        &[
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    lab.ok("tom", &["job", "advance", &job, "--to", "review"]);
    job
}

#[test]
fn the_job_page_shows_the_design_in_3d_coloured_by_depth_with_its_sheet_and_preview() {
    let lab = Lab::usual();
    let dir = lab.dir.path();
    // no shape modification: the design is the scan (clipped, on its base)
    let plain = planned(&lab, &rx(dir, "plain.rx", ""));
    // a high arch fill: built up under the arch, nowhere pushed in
    let arch = planned(&lab, &rx(dir, "arch.rx", "arch-fill: high\n"));
    let by_hand = lab
        .ok(
            "tom",
            &["job", "new", "--rx", "fixtures/rx/foot-left-eva.rx"],
        )
        .trim()
        .to_string();
    lab.ok("tom", &["job", "advance", &by_hand, "--to", "designing"]);
    lab.attach_design("tom", &by_hand, None, "h");
    let srv = Server::start(&lab);
    let (_, session) = srv.login("pat", &password("pat"));
    let session = session.unwrap();

    // the page: the view (fetched by the script), the sheet, the preview, the script from here
    let page = srv.req("GET", &format!("/job/{arch}"), &session, &[]);
    assert_eq!(page.status, 200);
    for part in [
        format!(r#"<div class="view3d" id="view-left" data-mesh="/job/{arch}/design/left/mesh">"#),
        format!(r#"<a id="sheet-left" href="/job/{arch}/design/left/sheet">"#),
        format!(
            r#"<img class="preview" id="preview-left" src="/job/{arch}/design/left/preview.png""#
        ),
        r#"<script type="module" src="/static/view3d.js"></script>"#.to_string(),
    ] {
        assert!(page.body.contains(&part), "{part}\n{}", page.body);
    }
    assert!(!page.body.contains("<script>"));

    // unmodified: every depth is 0 (the alignment is exact), the base has none
    let r = srv.req(
        "GET",
        &format!("/job/{plain}/design/left/mesh"),
        &session,
        &[],
    );
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/octet-stream"))
    );
    let v = view_of(&r.bytes);
    assert_eq!(v.head["depth"], true, "{}", v.head);
    let (base, foot): (Vec<f32>, Vec<f32>) = v.depth.iter().partition(|d| d.is_nan());
    assert!(
        !base.is_empty() && foot.len() > 3000,
        "{} {}",
        base.len(),
        foot.len()
    );
    let worst = foot.iter().fold(0f32, |m, d| m.max(d.abs()));
    assert!(worst < 0.01, "unmodified design {worst} mm off its scan");

    // the arch fill: up to about a centimetre built up, in the middle of the foot's length and
    // on one side of it; nothing pushed in
    let v = view_of(
        &srv.req(
            "GET",
            &format!("/job/{arch}/design/left/mesh"),
            &session,
            &[],
        )
        .bytes,
    );
    let foot: Vec<(usize, f32)> = v
        .depth
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, d)| d.is_finite())
        .collect();
    let most = foot.iter().fold(0f32, |m, (_, d)| m.max(*d));
    let least = foot.iter().fold(0f32, |m, (_, d)| m.min(*d));
    assert!((5.0..20.0).contains(&most), "arch fill {most} mm");
    assert!(least > -0.05, "pushed in {least} mm");
    let span = |k: usize| {
        foot.iter()
            .map(|(i, _)| v.positions[*i][k])
            .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(x), b.max(x)))
    };
    let ((x0, x1), (y0, y1)) = (span(0), span(1));
    let filled: Vec<(f32, f32)> = foot
        .iter()
        .filter(|(_, d)| *d > 2.0)
        .map(|(i, _)| {
            let p = v.positions[*i];
            ((p[0] - x0) / (x1 - x0), (p[1] - y0) / (y1 - y0))
        })
        .collect();
    assert!(filled.len() > 50, "{}", filled.len());
    assert!(
        filled.iter().all(|(x, _)| (0.15..0.75).contains(x)),
        "built up beyond the arch: {filled:?}"
    );
    assert!(
        filled.iter().all(|(_, y)| *y > 0.5) || filled.iter().all(|(_, y)| *y < 0.5),
        "built up on both sides: {filled:?}"
    );

    // an orthosis milled directly (EVA) is no foot positive: drawn without depth, and said so
    let eva = planned(&lab, "fixtures/rx/foot-left-eva.rx");
    let r = srv.req(
        "GET",
        &format!("/job/{eva}/design/left/mesh"),
        &session,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = view_of(&r.bytes);
    assert_eq!(v.head["depth"], false);
    assert!(
        v.head["note"]
            .as_str()
            .unwrap()
            .ends_with("shown without depth."),
        "{}",
        v.head
    );

    // a design attached by hand has no scan: drawn without depth, and said so
    let v = view_of(
        &srv.req(
            "GET",
            &format!("/job/{by_hand}/design/part/mesh"),
            &session,
            &[],
        )
        .bytes,
    );
    assert_eq!(v.head["depth"], false);
    assert!(
        v.head["note"]
            .as_str()
            .unwrap()
            .contains("No scan is recorded")
    );

    // the setup sheet and preview as fab plan wrote them
    let stem = dir.join(format!("{arch}-left"));
    let sheet = srv.req(
        "GET",
        &format!("/job/{arch}/design/left/sheet"),
        &session,
        &[],
    );
    assert_eq!(sheet.status, 200);
    assert_eq!(
        sheet.bytes,
        std::fs::read(format!("{}-setup.html", stem.display())).unwrap()
    );
    let png = srv.req(
        "GET",
        &format!("/job/{arch}/design/left/preview.png"),
        &session,
        &[],
    );
    assert_eq!(
        (png.status, png.header("content-type")),
        (200, Some("image/png"))
    );
    assert_eq!(
        png.bytes,
        std::fs::read(format!("{}-preview.png", stem.display())).unwrap()
    );

    // not logged in: nothing
    for what in ["mesh", "sheet", "preview.png"] {
        let r = srv.req("GET", &format!("/job/{arch}/design/left/{what}"), "", &[]);
        assert_eq!(r.status, 401, "{what}");
    }
    assert_eq!(
        srv.req(
            "GET",
            &format!("/job/{arch}/design/right/mesh"),
            &session,
            &[]
        )
        .status,
        404
    );

    // files changed behind the job's back are not shown
    let sheet_path = format!("{}-setup.html", stem.display());
    std::fs::write(&sheet_path, "<p>another sheet</p>").unwrap();
    let r = srv.req(
        "GET",
        &format!("/job/{arch}/design/left/sheet"),
        &session,
        &[],
    );
    assert_eq!(r.status, 409);
    assert!(
        r.body.contains("not the sheet of a program attached"),
        "{}",
        r.body
    );
    assert_eq!(
        srv.req(
            "GET",
            &format!("/job/{arch}/design/left/preview.png"),
            &session,
            &[]
        )
        .status,
        409
    );
    let design_path = format!("{}-design.stl", stem.display());
    let mut design = std::fs::read(&design_path).unwrap();
    design[100] ^= 1;
    std::fs::write(&design_path, design).unwrap();
    let r = srv.req(
        "GET",
        &format!("/job/{plain}/design/left/mesh"),
        &session,
        &[],
    );
    assert_eq!(r.status, 200, "another job's design is untouched");
    let r = srv.req(
        "GET",
        &format!("/job/{arch}/design/left/mesh"),
        &session,
        &[],
    );
    assert_eq!(r.status, 409);
    assert!(
        r.body.contains("has changed since it was attached"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains(dir.to_str().unwrap()),
        "no path: {}",
        r.body
    );

    // the vendored three.js, its licence and the viewer: scripts from this server, cached
    let three = srv.req("GET", "/static/three.module.min.js", "", &[]);
    assert_eq!(three.status, 200);
    assert_eq!(
        three.bytes,
        std::fs::read("assets/three/three.module.min.js").unwrap()
    );
    assert_eq!(
        three.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(three.header("cache-control"), Some("private, max-age=3600"));
    let viewer = srv.req("GET", "/static/view3d.js", "", &[]);
    assert!(viewer.body.contains("from './three.module.min.js'"));
    assert!(
        srv.req("GET", "/static/three-LICENSE.txt", "", &[])
            .body
            .contains("The MIT License")
    );
    assert_eq!(srv.req("GET", "/static/Cargo.toml", "", &[]).status, 404);

    // URLs and the log: job numbers and sides only
    let log = srv.stop().join("\n");
    assert!(
        log.contains(&format!("GET /job/{arch}/design/left/mesh 200")),
        "{log}"
    );
    assert!(!log.contains("MRN"), "{log}");
}
