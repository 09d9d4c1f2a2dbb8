/**
 * Policy workers: {@link io.streamrlhf.producer.worker.PolicyWorker} consumes {@code prompts} in a consumer group,
 * samples {@code samples_per_prompt} responses per prompt in batches across prompts, and publishes
 * {@code Generation} records and the prompt offsets in one Kafka transaction (exactly once);
 * {@link io.streamrlhf.producer.worker.WorkerPool} runs several in one process around one policy follower;
 * {@link io.streamrlhf.producer.worker.WorkerConfig} declares every setting; the
 * {@link io.streamrlhf.producer.worker.PromptEncoder} turns a conversation into the policy's tokens.
 */
package io.streamrlhf.producer.worker;
