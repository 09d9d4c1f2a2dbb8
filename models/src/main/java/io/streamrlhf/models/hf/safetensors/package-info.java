/**
 * The safetensors format: reading one file or the shards an index lists, memory-mapped, into float32
 * NDArrays ({@link io.streamrlhf.models.hf.safetensors.SafetensorsWeights}), and writing F32, BF16 or F16
 * files and sharded folders as {@code save_pretrained} does
 * ({@link io.streamrlhf.models.hf.safetensors.SafetensorsWriter}).
 *
 * <p>Written here rather than taken from DJL: DJL 0.36's {@code NDList.decode} recognises safetensors, but it
 * reads the whole stream into the heap, holds offsets as {@code int} (files up to 2 GiB), reads no sharded
 * folders and its errors name neither the file nor the tensor. This reader maps each tensor's bytes from the
 * file ({@code FileChannel.map}) and hands them to PyTorch, which copies F32 and widens F16 to float32; BF16 is
 * widened in Java, since DJL 0.36's PyTorch engine aborts on bfloat16 conversions.
 */
package io.streamrlhf.models.hf.safetensors;
