//! `fab serve` over HTTP, as a browser would speak to it: log in (CSRF on the form, the session
//! cookie HttpOnly and SameSite=Strict), the queue, a job, approve with the password (the same
//! signature as the command line), the security headers, the failed-login limit, and a log that
//! names no patient. The browser itself drives the pages in `serve_browser.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

mod lab;

use lab::{Lab, password};

/// A running `fab serve` on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(lab: &Lab) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fab"))
            .env("FAB_DB", &lab.db)
            .env_remove("FAB_TOKEN")
            .env_remove("FAB_USER")
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .strip_prefix("fab serve: http://")
            .and_then(|a| a.split('/').next())
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Server { child, addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One request; `cookies` as a Cookie header value, `form` url-encoded pairs.
    fn req(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Resp {
        http(&self.addr, method, path, cookies, form)
    }

    /// Logs `who` in with `pw`; the session cookie (`fab_session=...`), if it worked.
    fn login(&self, who: &str, pw: &str) -> (Resp, Option<String>) {
        let form = self.req("GET", "/login", "", &[]);
        let nonce = cookie_value(&form, "fab_login").unwrap();
        assert!(
            form.body
                .contains(&format!(r#"name="csrf" value="{nonce}""#))
        );
        let r = self.req(
            "POST",
            "/login",
            &format!("fab_login={nonce}"),
            &[("csrf", &nonce), ("name", who), ("password", pw)],
        );
        let session = cookie_value(&r, "fab_session").map(|v| format!("fab_session={v}"));
        (r, session)
    }

    /// The server's log so far (it is stopped first).
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = Vec::new();
        while let Ok(l) = self.log.recv_timeout(std::time::Duration::from_secs(2)) {
            out.push(l);
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `addr`.
fn http(addr: &str, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Resp {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookies.is_empty() {
        head.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Logs `who` in at `addr`; the session cookie.
fn login_at(addr: &str, who: &str) -> String {
    let form = http(addr, "GET", "/login", "", &[]);
    let nonce = cookie_value(&form, "fab_login").unwrap();
    let r = http(
        addr,
        "POST",
        "/login",
        &format!("fab_login={nonce}"),
        &[
            ("csrf", &nonce),
            ("name", who),
            ("password", &password(who)),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    format!("fab_session={}", cookie_value(&r, "fab_session").unwrap())
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The value a response sets a cookie to, checking it is HttpOnly and SameSite=Strict.
fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    let set = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v)
        .find(|v| v.starts_with(&format!("{name}=")))?;
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    let v = set.split(';').next()?.split_once('=')?.1.to_string();
    (!v.is_empty()).then_some(v)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The CSRF token in a page's forms.
fn csrf(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token");
    page[at + 19..].split('"').next().unwrap().to_string()
}

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
fn serve_stays_on_loopback_and_needs_a_database() {
    let (lab, _) = lab_with_job();
    let o = lab
        .bare()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("loopback only"));
    let o = lab
        .bare()
        .env("FAB_DB", lab.dir.path().join("none.db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no job database"));
    let _ = Server::url;
}

/// 50 clients browse (queue and job pages) while 8 approve at once, two racing on each of four
/// jobs: no request fails, each job is signed exactly once (the other racer is refused), and
/// the 99th percentile of the page times is reported (and bounded).
#[test]
fn fifty_browsing_and_eight_approving_at_once() {
    let lab = Lab::new(&[
        ("tom", "tech"),
        ("pat", "prosthetist"),
        ("sue", "prosthetist"),
    ]);
    let jobs: Vec<String> = (0..4)
        .map(|i| {
            let job = lab
                .ok(
                    "tom",
                    &["job", "new", "--rx", "fixtures/rx/foot-left-eva.rx"],
                )
                .trim()
                .to_string();
            lab.ok("tom", &["job", "advance", &job, "--to", "designing"]);
            lab.attach_design("tom", &job, None, &format!("p{i}"));
            lab.ok("tom", &["job", "advance", &job, "--to", "review"]);
            job
        })
        .collect();
    let srv = Server::start(&lab);
    let addr = srv.addr.clone();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(58));
    let mut handles = Vec::new();
    for c in 0..58usize {
        let (addr, jobs, barrier) = (addr.clone(), jobs.clone(), barrier.clone());
        handles.push(std::thread::spawn(move || {
            let who = if c < 50 || c % 2 == 0 { "pat" } else { "sue" };
            let session = login_at(&addr, who);
            barrier.wait();
            let mut times = Vec::new();
            let mut approved = 0;
            if c < 50 {
                for k in 0..6 {
                    let path = if k % 2 == 0 {
                        "/".to_string()
                    } else {
                        format!("/job/{}", jobs[(c + k) % jobs.len()])
                    };
                    let t = std::time::Instant::now();
                    let r = http(&addr, "GET", &path, &session, &[]);
                    times.push(t.elapsed());
                    assert_eq!(r.status, 200, "{path}: {}", r.body);
                }
            } else {
                let job = &jobs[(c - 50) / 2];
                let page = http(&addr, "GET", &format!("/job/{job}"), &session, &[]);
                let t = std::time::Instant::now();
                let r = http(
                    &addr,
                    "POST",
                    &format!("/job/{job}/approve"),
                    &session,
                    &[("csrf", &csrf(&page.body)), ("password", &password(who))],
                );
                times.push(t.elapsed());
                match r.status {
                    303 => approved += 1,
                    // the other racer signed first: refused cleanly, nothing written
                    422 => assert!(
                        r.body.contains("is already approved") || r.body.contains("from approved"),
                        "{}",
                        r.body
                    ),
                    s => panic!("approve {job}: {s} {}", r.body),
                }
            }
            (times, approved)
        }));
    }
    let mut times = Vec::new();
    let mut approved = 0;
    for h in handles {
        let (t, a) = h.join().unwrap();
        times.extend(t);
        approved += a;
    }
    assert_eq!(approved, jobs.len(), "each job signed once");
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
    times.sort();
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    let p50 = times[times.len() / 2];
    eprintln!(
        "fab serve under load: {} requests, p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    assert!(p99 < std::time::Duration::from_secs(5), "p99 {p99:?}");
    drop(srv);
}
