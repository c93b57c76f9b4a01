//! `ringlock-watch`: one ring per host that follows a membership ring in
//! etcd. It watches the ring's members and publishes each new ring into a
//! SharedRing file, so every process of the host looks keys up in the
//! cluster's ring in place (docs/distributed.md, "Membership").
//!
//! ```text
//! ringlock-watch --endpoints http://127.0.0.1:2379[,...] --ring NAME --output PATH
//!                [--algorithm xxh3] [--vnodes N] [--table-size N] [--namespace NS]
//! ```
//!
//! Prints `published revision=R generation=G nodes=N` for each publish
//! (the first at start) and runs until killed; a kill between two publishes
//! leaves the last whole generation in place.

use ringlock::etcd::{WatchOptions, Watcher};
use ringlock::{Algorithm, SharedRing};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: ringlock-watch --endpoints URL[,URL...] --ring NAME --output PATH \
[--algorithm NAME] [--vnodes N] [--table-size N] [--namespace NS]";

struct Args {
    endpoints: Vec<String>,
    ring: String,
    output: String,
    options: WatchOptions,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut endpoints, mut ring, mut output) = (None, None, None);
    let mut options = WatchOptions::default();
    while let Some(flag) = argv.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{flag} {v:?} is not a number"))
        };
        match flag.as_str() {
            "--endpoints" => {
                endpoints = Some(value.split(',').map(str::to_owned).collect::<Vec<_>>())
            }
            "--ring" => ring = Some(value),
            "--output" => output = Some(value),
            "--algorithm" => {
                options.algorithm = value.parse::<Algorithm>().map_err(|e| e.to_string())?
            }
            "--vnodes" => options.vnodes = number(&value)?,
            "--table-size" => options.table_size = number(&value)?,
            "--namespace" => options.namespace = value,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(Args {
        endpoints: endpoints.ok_or("--endpoints is required")?,
        ring: ring.ok_or("--ring is required")?,
        output: output.ok_or("--output is required")?,
        options,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("ringlock-watch: {why}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let watcher = match Watcher::start(&args.endpoints, &args.ring, &args.options) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("ringlock-watch: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    let mut placement = watcher.current();
    loop {
        match SharedRing::publish(placement.ring(), &args.output) {
            Ok(generation) => {
                let _ = writeln!(
                    out,
                    "published revision={} generation={generation} nodes={}",
                    placement.revision(),
                    placement.ring().len()
                );
                let _ = out.flush();
            }
            Err(e) => {
                eprintln!(
                    "ringlock-watch: cannot publish revision {} at {}: {e}",
                    placement.revision(),
                    args.output
                );
                return ExitCode::FAILURE;
            }
        }
        // the newest placement: changes that came meanwhile are one publish
        placement = loop {
            if let Some(p) = watcher.wait_newer(placement.revision(), None) {
                break p;
            }
        };
    }
}
