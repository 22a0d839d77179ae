//! `fuzz [--cases N] [--out FILE] [TARGET...]`: each target for N cases (default 1,000,000), after the
//! regression corpus; prints cases, seconds and cases per second per target. Writes the summary JSON
//! to FILE only when the corpus and every target passed. `FUZZ_SEED` fixes the seed (else one is drawn
//! and printed).

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let mut cases: u32 = 1_000_000;
    let mut out = None;
    let mut targets = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cases" => {
                cases = args
                    .next()
                    .and_then(|n| n.replace('_', "").parse().ok())
                    .unwrap_or_else(|| usage("--cases needs a number"))
            }
            "--out" => out = Some(args.next().unwrap_or_else(|| usage("--out needs a file"))),
            name if fuzz::TARGETS.contains(&name) => targets.push(name.to_owned()),
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    if targets.is_empty() {
        targets = fuzz::TARGETS.map(str::to_owned).to_vec();
    }
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("seed {seed} (FUZZ_SEED={seed} repeats this run)");

    let mut corpus_entries = 0;
    let mut failed = false;
    for target in &targets {
        match fuzz::corpus::run(target) {
            Ok(count) => {
                println!("corpus {target:<9} {count:>4} entries ok");
                corpus_entries += count;
            }
            Err(failures) => {
                failed = true;
                for failure in failures {
                    println!("corpus {target}: FAILED {failure}");
                }
            }
        }
    }

    fuzz::quiet_panics();
    let mut runs = Vec::new();
    for target in &targets {
        match fuzz::run(target, cases, seed) {
            Ok(run) => {
                println!(
                    "target {:<9} {:>9} cases {:>8.1} s {:>9.0} cases/s  ok",
                    run.name,
                    run.cases,
                    run.seconds,
                    f64::from(run.cases) / run.seconds
                );
                runs.push(run);
            }
            Err(report) => {
                failed = true;
                println!("target {target} FAILED: {report}");
            }
        }
    }
    let _ = std::panic::take_hook();

    let total_cases: u64 = runs.iter().map(|r| u64::from(r.cases)).sum();
    let total_seconds: f64 = runs.iter().map(|r| r.seconds).sum();
    if failed {
        println!("fuzz: FAILED (seed {seed})");
        std::process::exit(1);
    }
    println!(
        "fuzz: {total_cases} cases in {total_seconds:.1} s ({:.0} cases/s), {corpus_entries} corpus entries: all passed",
        total_cases as f64 / total_seconds
    );
    if let Some(out) = out {
        let json = serde_json::json!({
            "targets": runs.iter().map(|r| serde_json::json!({
                "name": r.name, "cases": r.cases, "seconds": (r.seconds * 10.0).round() / 10.0,
            })).collect::<Vec<_>>(),
            "total_cases": total_cases,
            "corpus_entries": corpus_entries,
        });
        let path = std::path::Path::new(&out);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| usage(&format!("{out}: {e}")));
        }
        std::fs::write(path, format!("{json:#}\n"))
            .unwrap_or_else(|e| usage(&format!("{out}: {e}")));
        println!("wrote {out}");
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "fuzz: {problem}\nusage: fuzz [--cases N] [--out FILE] [callback|message|jwt|config|dpop...]"
    );
    std::process::exit(2);
}
