/**
 * Running model work beside the thread that feeds it: {@link io.streamrlhf.models.pipeline.InOrderPipeline} runs
 * batches one after another on a thread of its own, a bounded number ahead of the caller, and hands the results back
 * in submission order. The policy worker samples this way while it commits the previous batch; the reward stream
 * scores this way while it reads the next micro-batch. Knows no Kafka.
 */
package io.streamrlhf.models.pipeline;
