/**
 * Benchmarks of the contracts ({@link io.streamrlhf.schemas.bench.SerdeBench}: the serde's round trips per second),
 * and what every benchmark that runs through Kafka starts from: the cluster it is handed
 * ({@link io.streamrlhf.schemas.bench.BenchCluster}) and the scratch directory it writes to
 * ({@link io.streamrlhf.schemas.bench.ScratchDirectory}). Benchmarks return results; {@code rlhf bench} prints them.
 */
package io.streamrlhf.schemas.bench;
