//! `y = x · wᵀ` for a `[out, in]` weight, as one op with a backward pass that writes the weight
//! gradient directly in the weight's `[out, in]` layout.
//!
//! The composed `x.matmul(&w.t())` records a transpose node whose backward allocates, zero-fills
//! and adds a weight-sized buffer, and a `[.., in]` input of rank 3 needs reshape nodes around a
//! 2-D product, each costing a zero-filled, activation-sized gradient buffer and an add in
//! candle's backward. Here any leading shape is flattened into rows inside the op.

use super::cpu::{
    contiguous_f32, filled_vec, matmul, uninit_ptr, with_f32_slice, Accumulate, MatMut, MatRef,
    SharedMutPtr, Threads,
};
use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// The composed form (differentiable candle ops): oracle and non-CPU path.
pub fn linear_composed(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let (out_features, in_features) = check_linear(x, weight)?;
    let leading = &x.dims()[..x.rank() - 1];
    let rows: usize = leading.iter().product();
    let mut out_shape = leading.to_vec();
    out_shape.push(out_features);
    x.reshape((rows, in_features))?
        .matmul(&weight.t()?)?
        .reshape(out_shape)
}

/// `x · wᵀ` with the fused CPU op: `x: [.., in]`, `weight: [out, in]` → `[.., out]`.
pub fn linear_fused(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    check_linear(x, weight)?;
    x.contiguous()?.apply_op2(&weight.contiguous()?, LinearOp)
}

fn check_linear(x: &Tensor, weight: &Tensor) -> Result<(usize, usize)> {
    let (out_features, in_features) = weight.dims2()?;
    if x.rank() == 0 || x.dim(D::Minus1)? != in_features {
        bail!(
            "linear: input {:?} does not end in the weight's {in_features} input features",
            x.dims()
        )
    }
    Ok((out_features, in_features))
}

struct LinearOp;

/// Below this many rows a product is a matrix-vector product in all but name: `gemm` runs those
/// on one thread, so [`project`] splits the output features over rayon's threads itself (decoding
/// one token per sequence reads every weight once; two cores give it twice the bandwidth).
const FEW_ROWS: usize = 8;

/// Output features per task when the rows are few.
const FEATURES_PER_TASK: usize = 256;

/// `dst[rows×out] = x[rows×in] · w[out×in]ᵀ`.
pub(crate) fn project(x: &[f32], w: &[f32], rows: usize, in_f: usize, out_f: usize) -> Vec<f32> {
    if rows < FEW_ROWS && out_f > FEATURES_PER_TASK && rayon::current_num_threads() > 1 {
        // SAFETY: each task writes the columns [start, start + width) of every row, and the
        // tasks' column ranges partition 0..out_f, so every element is written exactly once.
        return unsafe {
            filled_vec(rows * out_f, |dst| {
                let dst = SharedMutPtr(uninit_ptr(dst));
                (0..out_f.div_ceil(FEATURES_PER_TASK))
                    .into_par_iter()
                    .for_each(|task| {
                        let start = task * FEATURES_PER_TASK;
                        let width = FEATURES_PER_TASK.min(out_f - start);
                        matmul(
                            rows,
                            width,
                            in_f,
                            MatMut::new(dst.at(start), out_f, 1),
                            Accumulate::Overwrite,
                            MatRef::new(x.as_ptr(), in_f, 1),
                            MatRef::new(w.as_ptr().add(start * in_f), in_f, 1).t(),
                            1.0,
                            Threads::Single,
                        )
                    })
            })
        };
    }
    // SAFETY: all three buffers have exactly the extents the strides imply, and the product
    // overwrites every element of the destination.
    unsafe {
        filled_vec(rows * out_f, |dst| {
            matmul(
                rows,
                out_f,
                in_f,
                MatMut::new(uninit_ptr(dst), out_f, 1),
                Accumulate::Overwrite,
                MatRef::new(x.as_ptr(), in_f, 1),
                MatRef::new(w.as_ptr(), in_f, 1).t(),
                1.0,
                Threads::Rayon,
            )
        })
    }
}

/// Input gradient of [`project`]: `dx (=|+=) g · w`, written through `dx` (`[rows, in]`).
///
/// # Safety
/// `dx` must point to `rows · in` writable floats (initialised if `mode` is `Add`).
pub(crate) unsafe fn project_input_grad(
    g: &[f32],
    w: &[f32],
    dims: (usize, usize, usize),
    dx: *mut f32,
    mode: Accumulate,
) {
    let (rows, in_f, out_f) = dims;
    matmul(
        rows,
        in_f,
        out_f,
        MatMut::new(dx, in_f, 1),
        mode,
        MatRef::new(g.as_ptr(), out_f, 1),
        MatRef::new(w.as_ptr(), in_f, 1),
        1.0,
        Threads::Rayon,
    );
}

/// Weight gradient of [`project`]: `dw = gᵀ · x`, `[out, in]`.
pub(crate) fn project_weight_grad(g: &[f32], x: &[f32], dims: (usize, usize, usize)) -> Vec<f32> {
    let (rows, in_f, out_f) = dims;
    // SAFETY: `g` is [rows, out] and `x` [rows, in]; the product overwrites all of `dw`.
    unsafe {
        filled_vec(out_f * in_f, |dw| {
            matmul(
                out_f,
                in_f,
                rows,
                MatMut::new(uninit_ptr(dw), in_f, 1),
                Accumulate::Overwrite,
                MatRef::new(g.as_ptr(), out_f, 1).t(),
                MatRef::new(x.as_ptr(), in_f, 1),
                1.0,
                Threads::Rayon,
            )
        })
    }
}

impl CustomOp2 for LinearOp {
    fn name(&self) -> &'static str {
        "tulu-linear"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        w_storage: &CpuStorage,
        w_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(x_storage, x_layout, self.name())?;
        let w = contiguous_f32(w_storage, w_layout, self.name())?;
        let (out_f, in_f) = w_layout.shape().dims2()?;
        let rows = x.len() / in_f.max(1);
        let mut shape = x_layout.dims().to_vec();
        *shape.last_mut().expect("checked rank") = out_f;
        Ok((
            CpuStorage::F32(project(x, w, rows, in_f, out_f)),
            shape.into(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (out_f, in_f) = weight.dims2()?;
        let rows = x.elem_count() / in_f.max(1);
        let (dx, dw) = with_f32_slice(x, self.name(), |xs| {
            with_f32_slice(weight, self.name(), |w| {
                with_f32_slice(grad, self.name(), |g| {
                    let dims = (rows, in_f, out_f);
                    // SAFETY: `dx` has the input's extent and the product overwrites it.
                    let dx = unsafe {
                        filled_vec(xs.len(), |dx| {
                            project_input_grad(g, w, dims, uninit_ptr(dx), Accumulate::Overwrite)
                        })
                    };
                    let dw = project_weight_grad(g, xs, dims);
                    Ok((dx, dw))
                })
            })
        })?;
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), x.device())?),
            Some(Tensor::from_vec(dw, weight.shape(), weight.device())?),
        ))
    }
}
