//! Plumbing shared by the CPU kernels of the fused ops: typed access to candle's CPU storage, a
//! thin safe-ish wrapper over the `gemm` crate's strided matrix product, and the pointer type the
//! kernels use to write disjoint parts of one buffer from several rayon tasks.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, Layout, Result, Storage, Tensor};
use std::mem::MaybeUninit;

/// The `f32` elements a contiguous CPU tensor covers. The fused ops call `.contiguous()` on their
/// inputs before applying a custom op, so a strided layout here is a bug in the caller.
pub(crate) fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &'static str,
) -> Result<&'a [f32]> {
    let data = match storage {
        CpuStorage::F32(data) => data.as_slice(),
        other => bail!("{op}: expects f32 tensors, got {:?}", other.dtype()),
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!(
            "{op}: expects a contiguous tensor, got strides {:?}",
            layout.stride()
        ),
    }
}

/// The `u32` elements of a contiguous CPU tensor (token ids).
pub(crate) fn contiguous_u32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &'static str,
) -> Result<&'a [u32]> {
    let data = match storage {
        CpuStorage::U32(data) => data.as_slice(),
        other => bail!("{op}: expects u32 token ids, got {:?}", other.dtype()),
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!(
            "{op}: expects a contiguous tensor, got strides {:?}",
            layout.stride()
        ),
    }
}

/// Copies a CPU `f32` tensor out as a contiguous vector (used in backward passes, where candle
/// hands us tensors rather than storages). Cheap compared with the kernels that consume it.
pub(crate) fn tensor_to_f32_vec(tensor: &Tensor, op: &'static str) -> Result<Vec<f32>> {
    let tensor = tensor.contiguous()?;
    let (storage, layout) = tensor.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => Ok(contiguous_f32(cpu, layout, op)?.to_vec()),
        _ => bail!("{op}: the CPU kernel got a tensor on another device"),
    }
}

/// Runs `f` on the `f32` data of a contiguous CPU tensor without copying it.
pub(crate) fn with_f32_slice<R>(
    tensor: &Tensor,
    op: &'static str,
    f: impl FnOnce(&[f32]) -> Result<R>,
) -> Result<R> {
    let tensor = tensor.contiguous()?;
    let (storage, layout) = tensor.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => f(contiguous_f32(cpu, layout, op)?),
        _ => bail!("{op}: the CPU kernel got a tensor on another device"),
    }
}

/// A raw pointer that rayon tasks may share. Every use writes a region of the buffer that no other
/// task touches; the kernels document which region each task owns.
#[derive(Clone, Copy)]
pub(crate) struct SharedMutPtr(pub *mut f32);

// SAFETY: the pointer is only dereferenced on disjoint regions, one task per region, while the
// owning buffer outlives the parallel loop (it is a local of the calling function).
unsafe impl Send for SharedMutPtr {}
unsafe impl Sync for SharedMutPtr {}

impl SharedMutPtr {
    /// The element `offset` places past the start. (A method, so that closures capture the
    /// whole `Send` wrapper rather than its raw pointer field.)
    pub fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// A strided matrix: element (r, c) lives at `ptr + r * row_stride + c * col_stride`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef {
    pub ptr: *const f32,
    pub row_stride: isize,
    pub col_stride: isize,
}

impl MatRef {
    pub fn new(ptr: *const f32, row_stride: usize, col_stride: usize) -> Self {
        Self {
            ptr,
            row_stride: row_stride as isize,
            col_stride: col_stride as isize,
        }
    }

    /// The transpose, as a view over the same elements.
    pub fn t(self) -> Self {
        Self {
            ptr: self.ptr,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

/// Mutable counterpart of [`MatRef`].
#[derive(Clone, Copy)]
pub(crate) struct MatMut {
    pub ptr: *mut f32,
    pub row_stride: isize,
    pub col_stride: isize,
}

impl MatMut {
    pub fn new(ptr: *mut f32, row_stride: usize, col_stride: usize) -> Self {
        Self {
            ptr,
            row_stride: row_stride as isize,
            col_stride: col_stride as isize,
        }
    }
}

/// Whether a product overwrites its destination or adds to it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accumulate {
    Overwrite,
    Add,
}

/// Whether one product may use rayon's threads (large products of the linear layers) or runs on
/// the calling thread (attention, which parallelises over batch × head itself).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    Single,
    Rayon,
}

/// `dst[m×n] (=|+=) scale · lhs[m×k] · rhs[k×n]`.
///
/// # Safety
/// Every pointer must address the full strided extent its dimensions imply, and `dst` must not
/// alias `lhs` or `rhs` nor be written by another thread at the same time.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: MatMut,
    accumulate: Accumulate,
    lhs: MatRef,
    rhs: MatRef,
    scale: f32,
    threads: Threads,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if accumulate == Accumulate::Overwrite {
            for r in 0..m as isize {
                for c in 0..n as isize {
                    *dst.ptr.offset(r * dst.row_stride + c * dst.col_stride) = 0.0;
                }
            }
        }
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst.ptr,
        dst.col_stride,
        dst.row_stride,
        accumulate == Accumulate::Add,
        lhs.ptr,
        lhs.col_stride,
        lhs.row_stride,
        rhs.ptr,
        rhs.col_stride,
        rhs.row_stride,
        1.0,
        scale,
        false,
        false,
        false,
        match threads {
            Threads::Single => gemm::Parallelism::None,
            Threads::Rayon => gemm::Parallelism::Rayon(rayon::current_num_threads()),
        },
    );
}

/// Row chunk used by the row-parallel kernels. Fixed (not derived from the thread count) so that
/// reductions over chunks give bit-identical results on any number of threads.
pub(crate) const ROWS_PER_TASK: usize = 16;

/// A vector of `len` floats written by `fill` without first zero-filling it: most kernel outputs
/// are overwritten entirely (a GEMM destination, an elementwise map), and the zero-fill was a
/// measurable share of a training step.
///
/// # Safety
/// `fill` must initialise every element of the slice it is given.
pub(crate) unsafe fn filled_vec(
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<f32>]),
) -> Vec<f32> {
    let mut buffer: Vec<MaybeUninit<f32>> = Vec::with_capacity(len);
    // SAFETY: `MaybeUninit` needs no initialisation, and the capacity is `len`.
    unsafe { buffer.set_len(len) };
    fill(&mut buffer);
    let mut buffer = std::mem::ManuallyDrop::new(buffer);
    // SAFETY: the caller initialised every element; `MaybeUninit<f32>` and `f32` share layout.
    unsafe { Vec::from_raw_parts(buffer.as_mut_ptr() as *mut f32, len, buffer.capacity()) }
}

/// A raw destination pointer into an uninitialised buffer, for a GEMM that overwrites it.
pub(crate) fn uninit_ptr(buffer: &mut [MaybeUninit<f32>]) -> *mut f32 {
    buffer.as_mut_ptr() as *mut f32
}
