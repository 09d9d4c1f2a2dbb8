/**
 * {@code rlhf bench worker}: a policy worker's throughput through Kafka against its sampler alone, and the latency
 * from a version's publication to the first generation that carries it
 * ({@link io.streamrlhf.producer.bench.WorkerBench}); {@code rlhf bench fuzz}: the fuzzers at length through the
 * input topics and the feedback API ({@link io.streamrlhf.producer.bench.FuzzBench}).
 */
package io.streamrlhf.producer.bench;
