/**
 * DJL/PyTorch models: the policy transformer with a value head, the KV-cache sampler, the reward model,
 * tokenizers, the checkpoint format, TorchScript adapters and the synthetic world; and the in-order pipeline
 * ({@link io.streamrlhf.models.pipeline.InOrderPipeline}) on which the policy worker's sampler and the reward
 * stream's scorer run model work beside their Kafka threads. Knows no Kafka.
 */
package io.streamrlhf.models;
