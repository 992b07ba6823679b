//! `export`: write a dataset to a file outside the cache (JSONL, or a JSON array), atomically
//! (temp file, fsync, rename). The node's output records the file's hash; if the file is later
//! removed or changed, the next run writes it again.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::{Op, OpCall, OpContext, Output};
use crate::check::signature::{ArgProblem, Args, CheckEnv, Constraint, ParamSpec};
use crate::check::{OpSignature, Type, Value};

pub struct Export {
    signature: OpSignature,
}

impl Export {
    pub fn new() -> Export {
        Export {
            signature: OpSignature {
                name: "export",
                version: 1,
                doc: "Write a dataset to a file outside the cache",
                params: vec![
                    ParamSpec::required("data", Type::Dataset(None), "the dataset"),
                    ParamSpec::required(
                        "path",
                        Type::Str,
                        "the file to write, relative to the recipe",
                    ),
                    ParamSpec::with_default(
                        "format",
                        Type::Str,
                        Value::Str("jsonl".into()),
                        "\"jsonl\" or \"json\"",
                    )
                    .constrained(Constraint::OneOf(&["jsonl", "json"])),
                    ParamSpec::with_default(
                        "provenance",
                        Type::Bool,
                        Value::Bool(false),
                        "add a `_provenance` field to each row",
                    ),
                ],
                output: output_type,
                complete: None,
            },
        }
    }
}

impl Default for Export {
    fn default() -> Self {
        Export::new()
    }
}

fn output_type(args: &Args, _env: &CheckEnv) -> Result<Type, ArgProblem> {
    if let Some(Value::Str(p)) = crate::check::signature::arg(args, "path") {
        if p.is_empty() {
            return Err(ArgProblem::at("path", "the path is empty"));
        }
        if p.starts_with("asset:") {
            return Err(ArgProblem::at(
                "path",
                "cannot write into the assets directory",
            ));
        }
    }
    Ok(Type::Report)
}

fn target(call: &OpCall, recipe_dir: &Path) -> anyhow::Result<PathBuf> {
    let p = Path::new(call.str("path")?);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        recipe_dir.join(p)
    })
}

fn file_hash(path: &Path) -> Option<String> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path).ok()?;
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hasher.finalize().to_hex().to_string())
}

impl Op for Export {
    fn signature(&self) -> &OpSignature {
        &self.signature
    }

    fn execute(&self, call: &OpCall, ctx: &OpContext) -> anyhow::Result<Output> {
        let data = call.dataset("data")?;
        let path = target(call, &ctx.recipe_dir)?;
        let with_provenance = call.bool("provenance")?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| anyhow::anyhow!("cannot write in {}: {e}", dir.display()))?;
        let row_json = |row: &crate::data::Row| -> Json {
            let mut fields = row.fields.clone();
            if with_provenance {
                fields.insert(
                    "_provenance".into(),
                    serde_json::to_value(&row.provenance).unwrap_or(Json::Null),
                );
            }
            Json::Object(fields)
        };
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            match call.str("format")? {
                "json" => {
                    let all: Vec<Json> = data.rows.iter().map(row_json).collect();
                    serde_json::to_writer_pretty(&mut out, &all)?;
                    out.write_all(b"\n")?;
                }
                _ => {
                    for row in &data.rows {
                        serde_json::to_writer(&mut out, &row_json(row))?;
                        out.write_all(b"\n")?;
                    }
                }
            }
            out.flush()?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(&path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        let hash = file_hash(&path).unwrap_or_default();
        Ok(Output::Record {
            kind: "export",
            meta: json!({"path": path.display().to_string(), "rows": data.rows.len(), "blake3": hash}),
        })
    }

    fn effect_in_place(&self, _call: &OpCall, meta: &Json) -> bool {
        let (Some(path), Some(hash)) = (
            meta.get("path").and_then(Json::as_str),
            meta.get("blake3").and_then(Json::as_str),
        ) else {
            return false;
        };
        file_hash(Path::new(path)).as_deref() == Some(hash)
    }
}
