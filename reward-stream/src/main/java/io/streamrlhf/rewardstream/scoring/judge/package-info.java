/**
 * Generative judges: a chat model behind an OpenAI-compatible {@code /v1/chat/completions} endpoint, asked
 * pointwise (a 1-10 rating) or pairwise (A or B against a reference), with per-request timeouts, retries with
 * exponential backoff and a circuit breaker (Resilience4j) so a dead judge fails batches fast instead of stalling
 * the stream.
 */
package io.streamrlhf.rewardstream.scoring.judge;
