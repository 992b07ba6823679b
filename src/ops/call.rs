//! One invocation of an op: its params as JSON (inputs appear as `{"$input": i}`) and its inputs,
//! loaded. Accessors turn a wrong param into an error naming it, never a panic — the checker has
//! already validated params, so these errors mean a bug or a hand-edited cache.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

use crate::data::Dataset;

/// An input of a node, loaded for the op.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file named by a `File` param (its content hash is in the key).
    File(PathBuf),
    Dataset(Arc<Dataset>),
    /// A model directory (config.json, model.safetensors, tokenizer.json, …).
    Model(PathBuf),
    /// A report's JSON.
    Report(Arc<Value>),
}

pub struct OpCall {
    pub params: Value,
    pub inputs: Vec<Input>,
}

impl OpCall {
    pub fn param(&self, name: &str) -> &Value {
        self.params.get(name).unwrap_or(&Value::Null)
    }

    pub fn is_set(&self, name: &str) -> bool {
        !self.param(name).is_null()
    }

    pub fn str(&self, name: &str) -> Result<&str> {
        self.param(name)
            .as_str()
            .ok_or_else(|| anyhow!("param `{name}` is not a string"))
    }

    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.param(name).as_str()
    }

    pub fn f64(&self, name: &str) -> Result<f64> {
        self.param(name)
            .as_f64()
            .ok_or_else(|| anyhow!("param `{name}` is not a number"))
    }

    pub fn opt_f64(&self, name: &str) -> Option<f64> {
        self.param(name).as_f64()
    }

    pub fn i64(&self, name: &str) -> Result<i64> {
        self.param(name)
            .as_i64()
            .ok_or_else(|| anyhow!("param `{name}` is not an integer"))
    }

    pub fn usize(&self, name: &str) -> Result<usize> {
        let v = self.i64(name)?;
        usize::try_from(v).map_err(|_| anyhow!("param `{name}` must not be negative, got {v}"))
    }

    pub fn opt_usize(&self, name: &str) -> Result<Option<usize>> {
        if self.is_set(name) {
            self.usize(name).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn u64(&self, name: &str) -> Result<u64> {
        let v = self.i64(name)?;
        u64::try_from(v).map_err(|_| anyhow!("param `{name}` must not be negative, got {v}"))
    }

    pub fn bool(&self, name: &str) -> Result<bool> {
        self.param(name)
            .as_bool()
            .ok_or_else(|| anyhow!("param `{name}` is not a bool"))
    }

    /// The input an `{"$input": i}` JSON value refers to.
    pub fn input_at(&self, value: &Value) -> Result<&Input> {
        let index = value
            .get("$input")
            .and_then(Value::as_u64)
            .ok_or_else(|| anyhow!("expected an input reference, found {value}"))?;
        self.inputs
            .get(index as usize)
            .ok_or_else(|| anyhow!("input #{index} is missing"))
    }

    pub fn input(&self, name: &str) -> Result<&Input> {
        self.input_at(self.param(name))
            .map_err(|e| anyhow!("param `{name}`: {e}"))
    }

    pub fn dataset(&self, name: &str) -> Result<Arc<Dataset>> {
        dataset_of(self.input(name)?).map_err(|e| anyhow!("param `{name}`: {e}"))
    }

    pub fn file(&self, name: &str) -> Result<&PathBuf> {
        match self.input(name)? {
            Input::File(p) => Ok(p),
            other => bail!("param `{name}` is not a file but {}", kind_of(other)),
        }
    }

    pub fn model_dir(&self, name: &str) -> Result<&PathBuf> {
        match self.input(name)? {
            Input::Model(p) => Ok(p),
            other => bail!("param `{name}` is not a model but {}", kind_of(other)),
        }
    }
}

pub fn dataset_of(input: &Input) -> Result<Arc<Dataset>> {
    match input {
        Input::Dataset(d) => Ok(d.clone()),
        other => bail!("expected a dataset, found {}", kind_of(other)),
    }
}

fn kind_of(input: &Input) -> &'static str {
    match input {
        Input::File(_) => "a file",
        Input::Dataset(_) => "a dataset",
        Input::Model(_) => "a model",
        Input::Report(_) => "a report",
    }
}
