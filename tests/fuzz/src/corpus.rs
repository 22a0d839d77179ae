//! The regression corpus: nasty inputs with the verdict class each must get, run through the same
//! checks as the fuzzer (so every property holds for them too).

use crate::{callback, config, dpop, jwt, message};
use oidc_renew_core::{decode_jwt, validate_id_token};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `tests/fuzz/corpus`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// One corpus line, where it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub json: Value,
}

/// Every entry of a target, from its `*.jsonl` files in name order.
pub fn entries(target: &str) -> Result<Vec<Entry>, String> {
    let dir = dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    let mut entries = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = format!(
            "{target}/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let json = serde_json::from_str(line)
                .map_err(|e| format!("{file}:{}: not JSON: {e}", index + 1))?;
            entries.push(Entry {
                file: file.clone(),
                line: index + 1,
                json,
            });
        }
    }
    Ok(entries)
}

fn field<'a>(entry: &'a Entry, name: &str) -> Result<&'a str, String> {
    entry.json[name]
        .as_str()
        .ok_or_else(|| format!("{}:{}: no string `{name}`", entry.file, entry.line))
}

/// The verdicts an entry got, and those it records, as (what, got, recorded).
fn judge(target: &str, entry: &Entry) -> Result<Vec<(&'static str, String, String)>, String> {
    let recorded = |name: &str| field(entry, name).map(str::to_owned);
    Ok(match target {
        "callback" => vec![(
            "verdict",
            callback::check(field(entry, "input")?),
            recorded("verdict")?,
        )],
        "message" => {
            let fields = message::fields_of(&entry.json["input"]);
            vec![("verdict", message::check(&fields), recorded("verdict")?)]
        }
        "jwt" if entry.json.get("status").is_some() => {
            let status = entry.json["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| format!("{}:{}: bad status", entry.file, entry.line))?;
            let (jwks, token) = jwt::check_document(field(entry, "input")?, status);
            vec![
                ("jwks", jwks, recorded("jwks")?),
                ("token", token, recorded("token")?),
            ]
        }
        "jwt" => {
            let input = field(entry, "input")?;
            let mut verdicts = vec![("verdict", jwt::check(input, jwt::NOW), recorded("verdict")?)];
            if entry.json.get("id_token").is_some() {
                let token = decode_jwt(input).map_err(|_| {
                    format!(
                        "{}:{}: `id_token` on a token that does not decode",
                        entry.file, entry.line
                    )
                })?;
                let validation =
                    validate_id_token(&token, &jwt::expectations(jwt::NOW)).map(|_| ());
                verdicts.push((
                    "id_token",
                    jwt::id_token_verdict(&validation),
                    recorded("id_token")?,
                ));
            }
            verdicts
        }
        "config" => vec![(
            "verdict",
            config::check(field(entry, "input")?).1,
            recorded("verdict")?,
        )],
        "dpop" => {
            let case = dpop::case_of(&entry.json["input"])
                .map_err(|e| format!("{}:{}: input: {e}", entry.file, entry.line))?;
            vec![("verdict", dpop::check(&case), recorded("verdict")?)]
        }
        other => return Err(format!("no target `{other}`")),
    })
}

/// Runs every entry of `target`; returns how many ran, or every mismatch (a panic fails the caller).
pub fn run(target: &str) -> Result<usize, Vec<String>> {
    let entries = entries(target).map_err(|e| vec![e])?;
    let mut failures = Vec::new();
    for entry in &entries {
        match judge(target, entry) {
            Ok(verdicts) => {
                for (what, got, recorded) in verdicts {
                    if got != recorded {
                        failures.push(format!(
                            "{}:{}: {what} {got}, recorded {recorded} (input {})",
                            entry.file, entry.line, entry.json["input"]
                        ));
                    }
                }
            }
            Err(error) => failures.push(error),
        }
    }
    if failures.is_empty() {
        Ok(entries.len())
    } else {
        Err(failures)
    }
}
