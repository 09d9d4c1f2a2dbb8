/**
 * Policy workers that consume {@code prompts} and publish {@code Generation} records in one Kafka
 * transaction with the prompt offsets; policy hot swap from {@code policy.versions}; prompt feeders
 * (JSONL, RMB JSON, the synthetic world); feedback ingestion (HTTP API, rater page, import, simulated
 * raters). Built by the producer issue; nothing here yet.
 */
package io.streamrlhf.producer;
