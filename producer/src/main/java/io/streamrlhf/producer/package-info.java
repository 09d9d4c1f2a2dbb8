/**
 * The producing side of the loop: policy workers that consume {@code prompts} and publish {@code Generation}
 * records in one Kafka transaction with the prompt offsets ({@link io.streamrlhf.producer.worker}); policy hot
 * swap from {@code policy.versions} ({@link io.streamrlhf.producer.swap}); prompt feeders for JSONL, RMB JSON and
 * the synthetic world ({@link io.streamrlhf.producer.feed}); and feedback ingestion: the HTTP API, the rater page,
 * file import and simulated raters ({@link io.streamrlhf.producer.feedback}).
 */
package io.streamrlhf.producer;
