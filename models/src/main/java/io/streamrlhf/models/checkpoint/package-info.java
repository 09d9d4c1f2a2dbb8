/**
 * The checkpoint format shared by policies and reward models: a directory (or one byte stream, for
 * Kafka chunks) holding {@code config.json}, {@code weights.ndlist}, optional
 * {@code optimizer.bin} and a {@code manifest.json} with the sha256 of every file; atomic save,
 * verified load, in-place weight copy (hot swap) and weight encoding.
 */
package io.streamrlhf.models.checkpoint;
