//! The review pages in a real browser: headless Chromium driven through chromium-driver
//! (WebDriver, with fantoccini): log in, find the job in the queue, open it, see each foot's
//! design drawn in 3D (WebGL, SwiftShader in headless Chromium: the canvas's pixels are read
//! back) with its depth legend and the preview, sign the approval with the password, and read
//! the signed approval in its history. `scripts/test` installs Chromium and its driver (Debian
//! `chromium`, `chromium-driver`).

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

mod lab;

use lab::{Lab, password};

/// A program on the PATH (or `env`, where set); missing, the test fails and says how to install
/// it.
fn program(env: &str, names: &[&str], package: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the browser test needs {} on the PATH: install it with `apt-get install {package}` \
         (scripts/test does so), or set {env}",
        names.join(" or ")
    );
}

/// Kills a child process when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads the canvas of the 3D view `arguments[0]` back: null until it is drawn; else its size,
/// the pixels not the background's, and the clearly red and clearly blue ones.
const PIXELS: &str = r#"
const el = document.getElementById(arguments[0]);
if (!el) return null;
if (el.dataset.state === 'failed') return { failed: el.textContent };
if (el.dataset.state !== 'drawn') return null;
const c = el.querySelector('canvas');
const g = document.createElement('canvas');
g.width = c.width;
g.height = c.height;
const x = g.getContext('2d');
x.drawImage(c, 0, 0);
const d = x.getImageData(0, 0, g.width, g.height).data;
let drawn = 0, red = 0, blue = 0;
for (let i = 0; i < d.length; i += 4) {
  const r = d[i], gr = d[i + 1], b = d[i + 2];
  if (Math.abs(r - 0xf4) + Math.abs(gr - 0xf4) + Math.abs(b - 0xf4) > 12) drawn++;
  if (r > b + 40 && r > gr + 40) red++;
  if (b > r + 40 && b > gr + 20) blue++;
}
return { width: g.width, height: g.height, drawn, red, blue };
"#;

#[test]
fn a_prosthetist_approves_a_job_in_the_browser() {
    let chromium = program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
        "chromium",
    );
    let driver = program("CHROMEDRIVER", &["chromedriver"], "chromium-driver");

    let lab = Lab::usual();
    let job = lab
        .ok(
            "tom",
            &["job", "new", "--rx", "fixtures/rx/foot-bilateral.rx"],
        )
        .trim()
        .to_string();
    lab.ok("tom", &["job", "advance", &job, "--to", "designing"]);
    // planned as the lab plans: program, design, setup sheet and preview per foot
    for side in ["left", "right"] {
        let out = lab.dir.path().join(format!("{job}-{side}.nc"));
        lab.ok(
            "tom",
            &[
                "plan",
                &format!("fixtures/scans/foot-{side}-m.stl"),
                "--job",
                &job,
                "-o",
                out.to_str().unwrap(),
            ],
        );
    }
    lab.ok("tom", &["job", "advance", &job, "--to", "review"]);

    let mut server = Command::new(env!("CARGO_BIN_EXE_fab"))
        .env("FAB_DB", &lab.db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    // the server's log, drained
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let _server = Kill(server);
    let base = first
        .strip_prefix("fab serve: ")
        .and_then(|u| u.split(' ').next())
        .unwrap_or_else(|| panic!("{first}"))
        .trim_end_matches('/')
        .to_string();

    let port = free_port();
    let _driver = Kill(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    // WebGL on the CPU (no GPU here): ANGLE over SwiftShader, which Chromium
                    // no longer falls back to unasked
                    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                    "--window-size=1200,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with headless Chromium");

        // not logged in: the queue sends to the login page
        c.goto(&format!("{base}/")).await.unwrap();
        assert!(c.current_url().await.unwrap().as_str().ends_with("/login"));
        c.find(Locator::Id("name"))
            .await
            .unwrap()
            .send_keys("pat")
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(&password("pat"))
            .await
            .unwrap();
        c.find(Locator::Id("login-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // the session cookie is not readable by the page's scripts
        let cookie = c
            .execute("return document.cookie", vec![])
            .await
            .unwrap_or_default();
        assert!(!cookie.to_string().contains("fab_session"), "{cookie}");

        // the queue lists the job under review; its page lists what will be signed
        c.wait()
            .for_element(Locator::LinkText(&job))
            .await
            .expect("the job in the queue")
            .click()
            .await
            .unwrap();
        let to_sign = c
            .find(Locator::Id("to-sign"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            to_sign.contains("program (left)") && to_sign.contains("program (right)"),
            "{to_sign}"
        );

        // each foot's design in 3D: drawn, with pixels on the canvas, coloured by depth
        for side in ["left", "right"] {
            let start = Instant::now();
            let px = loop {
                let v = c
                    .execute(PIXELS, vec![serde_json::json!(format!("view-{side}"))])
                    .await
                    .unwrap();
                if let Some(state) = v.get("failed") {
                    panic!("the {side} 3D view failed: {state}");
                }
                if !v.is_null() {
                    break v;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(90),
                    "the {side} 3D view was never drawn"
                );
                std::thread::sleep(Duration::from_millis(250));
            };
            eprintln!("{side} view: {px}");
            let n = |k: &str| px[k].as_u64().unwrap();
            let total = n("width") * n("height");
            assert!(total > 10_000, "{px}");
            // the design covers a good part of the view, not a speck and not all of it
            assert!(
                n("drawn") > total / 20 && n("drawn") < total * 9 / 10,
                "{side}: {px}"
            );
            // built up somewhere (the arch fill, posts): red pixels
            assert!(n("red") > total / 500, "{side}: {px}");
            let view = c
                .find(Locator::Id(&format!("view-{side}")))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                view.contains("mm pushed in") && view.contains("mm built up"),
                "{view}"
            );
            // the preview fab plan wrote, loaded
            let loaded = c
                .execute(
                    "const i = document.getElementById(arguments[0]); \
                     return i && i.complete ? i.naturalWidth : 0;",
                    vec![serde_json::json!(format!("preview-{side}"))],
                )
                .await
                .unwrap();
            assert!(
                loaded.as_u64().unwrap_or(0) > 100,
                "{side} preview: {loaded}"
            );
        }
        // nothing on the page ran into the CSP, and no patient reference in any URL it used
        let urls = c
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .unwrap();
        assert!(!urls.to_string().contains("MRN"), "{urls}");
        assert!(
            urls.to_string().contains("/static/three.module.min.js"),
            "{urls}"
        );

        // a wrong password signs nothing
        c.find(Locator::Id("sign-password"))
            .await
            .unwrap()
            .send_keys("not the password")
            .await
            .unwrap();
        c.find(Locator::Id("approve-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // (the page after a submit: waited for, not assumed loaded)
        let notice = c
            .wait()
            .for_element(Locator::Id("notice"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(notice.contains("not pat's password"), "{notice}");
        let status = c.find(Locator::Id("status")).await.unwrap();
        assert_eq!(status.text().await.unwrap(), "review");

        // the right one signs both feet
        c.find(Locator::Id("sign-password"))
            .await
            .unwrap()
            .send_keys(&password("pat"))
            .await
            .unwrap();
        c.find(Locator::Id("approve-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let start = Instant::now();
        loop {
            let status = match c.find(Locator::Id("status")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if status == "approved" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the job page never showed it approved (status `{status}`)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let history = c
            .find(Locator::Id("history"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(history.contains("review -> approved"), "{history}");
        assert!(
            history.contains("signed, approved for milling: program (left)"),
            "{history}"
        );
        c.close().await.unwrap();
    });

    // the store says the same
    let h: serde_json::Value =
        serde_json::from_str(&lab.ok("oli", &["job", "history", &job, "--json"])).unwrap();
    let last = h.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["actor"].as_str(), last["to"].as_str()),
        (Some("pat"), Some("approved"))
    );
    lab.ok("oli", &["job", "audit", &job]);
}
