//! Typed access to a GGUF file's key/value metadata, with errors that name the file and key.
//!
//! GGUF writers differ in the integer width they use for the same key (u32 in llama.cpp's
//! converter, u64 or i32 elsewhere), so integer getters accept any integer type that fits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use candle_core::quantized::gguf_file::Value;

/// A GGUF metadata map with the path it came from, for error messages.
pub struct GgufMetadata<'a> {
    path: PathBuf,
    values: &'a HashMap<String, Value>,
}

impl<'a> GgufMetadata<'a> {
    pub fn new(path: &Path, values: &'a HashMap<String, Value>) -> Self {
        Self {
            path: path.to_path_buf(),
            values,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    fn missing(&self, key: &str, why: &str) -> anyhow::Error {
        anyhow!(
            "{}: GGUF metadata key `{key}` is missing ({why})",
            self.path.display()
        )
    }

    fn wrong_type(&self, key: &str, expected: &str, value: &Value) -> anyhow::Error {
        anyhow!(
            "{}: GGUF metadata key `{key}` should be {expected}, found {:?}",
            self.path.display(),
            value.value_type()
        )
    }

    /// A non-negative integer, required.
    pub fn usize(&self, key: &str, why: &str) -> Result<usize> {
        self.opt_usize(key)?.ok_or_else(|| self.missing(key, why))
    }

    /// A non-negative integer, if present.
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        let Some(value) = self.values.get(key) else {
            return Ok(None);
        };
        self.integer(key, value).map(Some)
    }

    fn integer(&self, key: &str, value: &Value) -> Result<usize> {
        let signed: i128 = match value {
            Value::U8(v) => (*v).into(),
            Value::I8(v) => (*v).into(),
            Value::U16(v) => (*v).into(),
            Value::I16(v) => (*v).into(),
            Value::U32(v) => (*v).into(),
            Value::I32(v) => (*v).into(),
            Value::U64(v) => (*v).into(),
            Value::I64(v) => (*v).into(),
            other => return Err(self.wrong_type(key, "an integer", other)),
        };
        usize::try_from(signed).map_err(|_| {
            anyhow!(
                "{}: GGUF metadata key `{key}` is {signed}, expected a non-negative integer",
                self.path.display()
            )
        })
    }

    /// A float (f32 or f64), if present. An f32 is widened through its shortest decimal form,
    /// so the `1e-5` a converter stored reads back as `1e-5`, not `9.999999747378752e-6`.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.values.get(key) {
            None => Ok(None),
            Some(Value::F32(v)) => Ok(Some(v.to_string().parse().unwrap_or(f64::from(*v)))),
            Some(Value::F64(v)) => Ok(Some(*v)),
            Some(other) => Err(self.wrong_type(key, "a float", other)),
        }
    }

    /// A bool, if present.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.values.get(key) {
            None => Ok(None),
            Some(Value::Bool(v)) => Ok(Some(*v)),
            Some(other) => Err(self.wrong_type(key, "a bool", other)),
        }
    }

    /// A string, required.
    pub fn str(&self, key: &str, why: &str) -> Result<&'a str> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key, why))
    }

    /// A string, if present.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.values.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// An array of strings, required.
    pub fn str_array(&self, key: &str, why: &str) -> Result<Vec<&'a str>> {
        let value = self.values.get(key).ok_or_else(|| self.missing(key, why))?;
        let Value::Array(items) = value else {
            return Err(self.wrong_type(key, "an array of strings", value));
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.as_str()),
                other => Err(self.wrong_type(key, "an array of strings", other)),
            })
            .collect()
    }

    /// An array of integers, if present.
    pub fn opt_int_array(&self, key: &str) -> Result<Option<Vec<usize>>> {
        let Some(value) = self.values.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.wrong_type(key, "an array of integers", value));
        };
        items
            .iter()
            .map(|item| self.integer(key, item))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A token id, if present; checked against the vocabulary size.
    pub fn opt_token_id(&self, key: &str, vocab_size: usize) -> Result<Option<u32>> {
        let Some(id) = self.opt_usize(key)? else {
            return Ok(None);
        };
        if id >= vocab_size {
            bail!(
                "{}: GGUF metadata key `{key}` is {id}, outside the vocabulary of {vocab_size} \
                 tokens",
                self.path.display()
            );
        }
        Ok(Some(id as u32))
    }
}
