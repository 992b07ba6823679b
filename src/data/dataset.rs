//! A dataset artifact: a schema, rows with provenance, and metadata ops add (resolved mix counts,
//! dedup clusters, contamination tables). Stored as `rows.jsonl`, one row per line:
//! `{"row": {…fields…}, "source": "gsm8k", "index": 12, "license": "MIT"}`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde_json::{Map, Value};

use super::row::Row;
use crate::check::Schema;

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub schema: Schema,
    pub rows: Vec<Row>,
    /// Op-specific metadata, kept in the artifact's manifest.
    pub meta: Map<String, Value>,
}

impl Dataset {
    pub fn new(schema: Schema, rows: Vec<Row>) -> Dataset {
        Dataset {
            schema,
            rows,
            meta: Map::new(),
        }
    }

    /// The rows file's bytes. Deterministic: the same rows give the same bytes.
    pub fn write_rows(&self, out: &mut impl Write) -> std::io::Result<()> {
        for row in &self.rows {
            serde_json::to_writer(&mut *out, row)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn read_rows(schema: Schema, input: impl BufRead) -> Result<Vec<Row>, String> {
        let _ = schema;
        let mut rows = Vec::new();
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| format!("rows.jsonl line {}: {e}", i + 1))?;
            if line.is_empty() {
                continue;
            }
            let row: Row = serde_json::from_str(&line)
                .map_err(|e| format!("rows.jsonl line {}: {e}", i + 1))?;
            rows.push(row);
        }
        Ok(rows)
    }

    /// Rows per source, for data cards and `tulu cat --summary`.
    pub fn source_counts(&self) -> BTreeMap<String, (String, usize)> {
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for row in &self.rows {
            let entry = counts
                .entry(row.provenance.source.clone())
                .or_insert_with(|| (row.provenance.license.clone(), 0));
            entry.1 += 1;
        }
        counts
    }

    /// The metadata every dataset manifest carries, plus the op's own.
    pub fn manifest_meta(&self) -> Value {
        let mut meta = Map::new();
        meta.insert("schema".into(), Value::String(self.schema.key().into()));
        meta.insert("rows".into(), Value::from(self.rows.len()));
        let sources: Map<String, Value> = self
            .source_counts()
            .into_iter()
            .map(|(name, (license, count))| {
                (name, serde_json::json!({"license": license, "rows": count}))
            })
            .collect();
        meta.insert("sources".into(), Value::Object(sources));
        for (k, v) in &self.meta {
            meta.insert(k.clone(), v.clone());
        }
        Value::Object(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Provenance;

    #[test]
    fn rows_round_trip_through_jsonl() {
        let mut fields = Map::new();
        fields.insert("text".into(), Value::String("héllo\n".into()));
        let ds = Dataset::new(
            Schema::Text,
            vec![Row::new(
                fields,
                Provenance {
                    source: "s".into(),
                    index: 3,
                    license: "MIT".into(),
                },
            )],
        );
        let mut bytes = Vec::new();
        ds.write_rows(&mut bytes).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "{\"row\":{\"text\":\"héllo\\n\"},\"source\":\"s\",\"index\":3,\"license\":\"MIT\"}\n"
        );
        let back = Dataset::read_rows(Schema::Text, &bytes[..]).unwrap();
        assert_eq!(back, ds.rows);
    }
}
