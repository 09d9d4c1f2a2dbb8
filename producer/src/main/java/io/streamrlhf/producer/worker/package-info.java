/**
 * Policy workers: {@link io.streamrlhf.producer.worker.PolicyWorker} consumes {@code prompts} in a consumer group,
 * samples {@code samples_per_prompt} responses per prompt in batches across prompts, and publishes
 * {@code Generation} records and the prompt offsets in one Kafka transaction (exactly once);
 * {@link io.streamrlhf.producer.worker.WorkerPool} runs several in one process around one policy follower;
 * {@link io.streamrlhf.producer.worker.WorkerConfig} declares every setting; the
 * {@link io.streamrlhf.producer.worker.PromptEncoder} turns a conversation into the policy's tokens
 * ({@link io.streamrlhf.producer.worker.WorldPromptEncoder} for the synthetic world,
 * {@link io.streamrlhf.producer.worker.HfPromptEncoder} for a Hugging Face model's tokenizer and chat template). Beside the
 * worker's consume-sample-commit loop: reading and validating prompt records ({@code PromptReader}), the prompts
 * waiting for a batch ({@code PromptQueue}), a batch and its samples ({@code PromptBatch}, {@code SampledBatch}),
 * the Avro mapping of generations ({@code GenerationRecords}) and the worker's meters ({@code WorkerMetrics}).
 */
package io.streamrlhf.producer.worker;
