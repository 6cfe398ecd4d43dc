//! A running `fab serve` and an HTTP/1.1 client as small as a browser's requests need, for
//! `tests/serve.rs` and the load benchmark (`benches/serve_load.rs`): log in, browse, approve,
//! and the load of many clients at once with each request's time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::lab::{Lab, password};

/// A running `fab serve` on a free loopback port; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
    /// `http` or `https`.
    pub scheme: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    pub fn start(lab: &Lab) -> Server {
        Server::start_with(lab, &["--listen", "127.0.0.1:0"])
    }

    /// `fab serve ARGS` on the lab's database; waits for the line saying where it listens.
    pub fn start_with(lab: &Lab, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fab"))
            .env("FAB_DB", &lab.db)
            .env_remove("FAB_TOKEN")
            .env_remove("FAB_USER")
            .arg("serve")
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let (scheme, rest) = first
            .strip_prefix("fab serve: ")
            .and_then(|u| u.split_once("://"))
            .unwrap_or_else(|| panic!("{first}"));
        let addr = rest.split('/').next().unwrap().to_string();
        let scheme = scheme.to_string();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Server {
            child,
            addr,
            scheme,
            log,
        }
    }

    /// One request; `cookies` as a Cookie header value, `form` url-encoded pairs.
    pub fn req(&self, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Resp {
        http(&self.addr, method, path, cookies, form)
    }

    /// Logs `who` in with `pw`; the session cookie (`fab_session=...`), if it worked.
    pub fn login(&self, who: &str, pw: &str) -> (Resp, Option<String>) {
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
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = Vec::new();
        while let Ok(l) = self.log.recv_timeout(Duration::from_secs(2)) {
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

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The request's bytes.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookies: &str,
    form: &[(&str, &str)],
) -> Vec<u8> {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
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
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// A whole response as read until the server closed the connection.
pub fn response(raw: Vec<u8>) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let bytes = raw[split + 4..].to_vec();
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
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// One HTTP/1.1 request to `addr` (no chunked bodies: the server sends lengths).
pub fn http(addr: &str, method: &str, path: &str, cookies: &str, form: &[(&str, &str)]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(&request(addr, method, path, cookies, form))
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    response(raw)
}

/// Logs `who` in at `addr`; the session cookie.
pub fn login_at(addr: &str, who: &str) -> String {
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

/// The value a response sets a cookie to, checking it is HttpOnly and SameSite=Strict.
pub fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    let set = set_cookie(r, name)?;
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    let v = set.split(';').next()?.split_once('=')?.1.to_string();
    (!v.is_empty()).then_some(v)
}

/// The whole Set-Cookie header a response sends for `name`.
pub fn set_cookie<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The CSRF token in a page's forms.
pub fn csrf(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token");
    page[at + 19..].split('"').next().unwrap().to_string()
}

/// A lab with `n` jobs in review (users tom, pat and sue), each with a program and a design
/// attached by hand.
pub fn lab_with_jobs(n: usize) -> (Lab, Vec<String>) {
    let lab = Lab::new(&[
        ("tom", "tech"),
        ("pat", "prosthetist"),
        ("sue", "prosthetist"),
    ]);
    let jobs = (0..n)
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
    (lab, jobs)
}

/// What the load did: each request's time by kind, and how many approvals went through.
#[derive(Default)]
pub struct Load {
    /// Queue and job pages.
    pub pages: Vec<Duration>,
    /// The approvals' posts (each racing another prosthetist's on the same job).
    pub approvals: Vec<Duration>,
    /// Signed approvals (303); the others were refused cleanly.
    pub approved: usize,
    /// Requests that failed (any status other than the expected), with what came back.
    pub errors: Vec<String>,
}

/// `browsers` clients log in and each fetch `rounds` pages (the queue and a job page in turn)
/// while `2 * jobs.len()` clients approve, two racing on each job; all start together. Approvals
/// are signed by pat and sue in turn.
pub fn load(addr: &str, jobs: &[String], browsers: usize, rounds: usize) -> Load {
    let approvers = 2 * jobs.len();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(browsers + approvers));
    let mut handles = Vec::new();
    for c in 0..browsers + approvers {
        let (addr, jobs, barrier) = (addr.to_string(), jobs.to_vec(), barrier.clone());
        handles.push(std::thread::spawn(move || {
            let mut out = Load::default();
            let who = if c < browsers || c % 2 == 0 {
                "pat"
            } else {
                "sue"
            };
            let session = login_at(&addr, who);
            if c < browsers {
                barrier.wait();
                for k in 0..rounds {
                    let path = if k % 2 == 0 {
                        "/".to_string()
                    } else {
                        format!("/job/{}", jobs[(c + k) % jobs.len()])
                    };
                    let t = Instant::now();
                    let r = http(&addr, "GET", &path, &session, &[]);
                    out.pages.push(t.elapsed());
                    if r.status != 200 {
                        out.errors
                            .push(format!("GET {path}: {} {}", r.status, r.body));
                    }
                }
            } else {
                let job = &jobs[(c - browsers) / 2];
                let page = http(&addr, "GET", &format!("/job/{job}"), &session, &[]);
                barrier.wait();
                let t = Instant::now();
                let r = http(
                    &addr,
                    "POST",
                    &format!("/job/{job}/approve"),
                    &session,
                    &[("csrf", &csrf(&page.body)), ("password", &password(who))],
                );
                out.approvals.push(t.elapsed());
                match r.status {
                    303 => out.approved += 1,
                    // the other racer signed first: refused cleanly, nothing written
                    422 if r.body.contains("is already approved")
                        || r.body.contains("from approved") => {}
                    s => out.errors.push(format!("approve {job}: {s} {}", r.body)),
                }
            }
            out
        }));
    }
    let mut all = Load::default();
    for h in handles {
        let l = h.join().unwrap();
        all.pages.extend(l.pages);
        all.approvals.extend(l.approvals);
        all.approved += l.approved;
        all.errors.extend(l.errors);
    }
    all
}

/// The `q` quantile (0..=1) of `times`, by the nearest rank.
pub fn quantile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    let k = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len());
    times[k - 1]
}
