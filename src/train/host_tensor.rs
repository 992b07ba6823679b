//! Direct access to the `f32` elements of CPU tensors, for the optimizer's and the gradient
//! norm's single-pass kernels (candle would make one pass and one allocation per elementary op).

use candle_core::{CpuStorage, Storage, Tensor};

/// Runs `f` on the elements of `tensor` when it is a contiguous `f32` tensor on the CPU; `None`
/// otherwise (another device or dtype, or a strided view), so the caller can take the generic
/// path.
pub(crate) fn with_host_f32<R>(tensor: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let (storage, layout) = tensor.storage_and_layout();
    let Storage::Cpu(CpuStorage::F32(data)) = &*storage else {
        return None;
    };
    let (start, end) = layout.contiguous_offsets()?;
    Some(f(&data[start..end]))
}

/// Whether the fused CPU kernels can run on `tensor`.
pub(crate) fn is_host_f32(tensor: &Tensor) -> bool {
    tensor.device().is_cpu() && tensor.dtype() == candle_core::DType::F32
}
