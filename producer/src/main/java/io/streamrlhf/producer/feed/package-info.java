/**
 * Prompt feeders: {@link io.streamrlhf.producer.feed.PromptFiles} reads JSONL (one conversation per line) and RMB
 * JSON ({@code conversation_input}) with every problem reported by file and line or record;
 * {@link io.streamrlhf.producer.feed.PromptSender} writes a validated set in one transaction, so nothing partial
 * is sent; {@link io.streamrlhf.producer.feed.SyntheticPromptFeed} sends the synthetic world's prompts at a rate;
 * {@link io.streamrlhf.producer.feed.VerifiablePromptFeed} its verifiable task's, with reference answers.
 */
package io.streamrlhf.producer.feed;
