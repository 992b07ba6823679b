//! Reading data files into rows: JSONL, JSON arrays, either gzipped. Every problem is reported
//! with its file, line and field; nothing half-read is ever returned.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::error::DataError;
use super::field_map::{self, FieldRule};
use super::row::{Provenance, Row};
use super::schema;
use crate::check::Schema;

pub struct ReadOptions<'a> {
    /// The schema rows must follow; `None` takes it from the first row.
    pub schema: Option<Schema>,
    pub source: String,
    pub license: String,
    /// When given, rows are built from these rules instead of taken as they are.
    pub fields: Option<&'a [FieldRule]>,
    /// Constant fields added to every row.
    pub set: &'a Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    JsonArray,
}

fn format_of(path: &Path) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".json") {
        Format::JsonArray
    } else {
        Format::Jsonl
    }
}

fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let file = File::open(path).map_err(|e| DataError::file(path, format!("cannot open: {e}")))?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    })
}

/// Calls `each(line_number, object)` for every row of the file, in order.
fn for_each_object(
    path: &Path,
    mut each: impl FnMut(usize, Map<String, Value>) -> Result<bool, DataError>,
) -> Result<(), DataError> {
    let reader = open(path)?;
    match format_of(path) {
        Format::Jsonl => {
            let mut buf = BufReader::new(reader);
            let mut line = String::new();
            let mut number = 0usize;
            loop {
                line.clear();
                let n = buf.read_line(&mut line).map_err(|e| DataError {
                    file: path.to_path_buf(),
                    line: number + 1,
                    field: None,
                    message: format!("cannot read: {e} (is the file valid UTF-8 / gzip?)"),
                })?;
                if n == 0 {
                    return Ok(());
                }
                number += 1;
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(text).map_err(|e| DataError {
                    file: path.to_path_buf(),
                    line: number,
                    field: None,
                    message: format!("not valid JSON: {e}"),
                })?;
                let Value::Object(obj) = value else {
                    return Err(DataError {
                        file: path.to_path_buf(),
                        line: number,
                        field: None,
                        message: "each line must be a JSON object".into(),
                    });
                };
                if !each(number, obj)? {
                    return Ok(());
                }
            }
        }
        Format::JsonArray => {
            let value: Value =
                serde_json::from_reader(BufReader::new(reader)).map_err(|e| DataError {
                    file: path.to_path_buf(),
                    line: e.line(),
                    field: None,
                    message: format!("not valid JSON: {e}"),
                })?;
            let Value::Array(items) = value else {
                return Err(DataError::file(
                    path,
                    "a .json data file must hold an array of row objects",
                ));
            };
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(obj) = item else {
                    return Err(DataError {
                        file: path.to_path_buf(),
                        line: 0,
                        field: Some(format!("[{i}]")),
                        message: "each element must be a JSON object".into(),
                    });
                };
                if !each(i + 1, obj)? {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
}

fn shape(
    path: &Path,
    line: usize,
    obj: Map<String, Value>,
    fields: Option<&[FieldRule]>,
    set: &Map<String, Value>,
) -> Result<Map<String, Value>, DataError> {
    let mut row = match fields {
        Some(rules) => field_map::apply(rules, &obj).map_err(|(field, message)| DataError {
            file: path.to_path_buf(),
            line,
            field: Some(field),
            message,
        })?,
        None => obj,
    };
    for (k, v) in set {
        row.insert(k.clone(), v.clone());
    }
    Ok(row)
}

/// The schema of the first row (after field mapping), for the checker.
pub fn sniff_file(
    path: &Path,
    fields: Option<&[FieldRule]>,
    set: &Map<String, Value>,
) -> Result<Option<Schema>, DataError> {
    let mut found = None;
    for_each_object(path, |line, obj| {
        let row = shape(path, line, obj, fields, set)?;
        found = Some(schema::sniff(&row));
        Ok(false)
    })?;
    Ok(found.flatten())
}

/// Read every row, validating each against the schema.
pub fn read_rows(path: &Path, opts: &ReadOptions) -> Result<(Schema, Vec<Row>), DataError> {
    let mut rows = Vec::new();
    let mut schema = opts.schema;
    for_each_object(path, |line, obj| {
        let fields = shape(path, line, obj, opts.fields, opts.set)?;
        let s = match schema {
            Some(s) => s,
            None => {
                let s = schema::sniff(&fields).ok_or_else(|| DataError {
                    file: path.to_path_buf(),
                    line,
                    field: None,
                    message: "cannot tell the schema of this row (no `messages`, `chosen`/`rejected`, `ground_truth` or `text`); pass `schema:` to load".into(),
                })?;
                schema = Some(s);
                s
            }
        };
        schema::validate(s, &fields).map_err(|e| DataError {
            file: path.to_path_buf(),
            line,
            field: Some(e.field),
            message: format!(
                "{} (a {} row looks like {})",
                e.message,
                s.name(),
                schema::describe(s)
            ),
        })?;
        let index = rows.len() as u64;
        rows.push(Row::new(
            fields,
            Provenance {
                source: opts.source.clone(),
                index,
                license: opts.license.clone(),
            },
        ));
        Ok(true)
    })?;
    let schema = schema.ok_or_else(|| DataError::file(path, "the file holds no rows"))?;
    Ok((schema, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn opts() -> ReadOptions<'static> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        ReadOptions {
            schema: None,
            source: "t".into(),
            license: "MIT".into(),
            fields: None,
            set: EMPTY.get_or_init(Map::new),
        }
    }

    #[test]
    fn reads_jsonl_gz_and_json_arrays_with_provenance() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n";
        let p = write(dir.path(), "x.jsonl", jsonl);
        let (schema, rows) = read_rows(&p, &opts()).unwrap();
        assert_eq!(schema, Schema::Text);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1].provenance,
            Provenance {
                source: "t".into(),
                index: 1,
                license: "MIT".into()
            }
        );

        let gz_path = dir.path().join("x.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz_path).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(jsonl.as_bytes()).unwrap();
        enc.finish().unwrap();
        assert_eq!(read_rows(&gz_path, &opts()).unwrap().1, rows);

        let arr = write(
            dir.path(),
            "x.json",
            "[{\"text\": \"a\"}, {\"text\": \"b\"}]",
        );
        assert_eq!(read_rows(&arr, &opts()).unwrap().1, rows);
    }

    #[test]
    fn malformed_rows_are_reported_with_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "bad.jsonl",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": 3}]}\n",
        );
        let e = read_rows(&p, &opts()).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field.as_deref(), Some("messages[0].content"));
        assert!(
            e.to_string().starts_with(&format!(
                "{}:2: field `messages[0].content`: must be a string",
                p.display()
            )),
            "{e}"
        );

        let p = write(
            dir.path(),
            "broken.jsonl",
            "{\"text\": \"a\"}\n{\"text\": \n",
        );
        let e = read_rows(&p, &opts()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("not valid JSON"), "{e}");
    }
}
