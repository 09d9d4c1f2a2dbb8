/**
 * Supervised fine-tuning on the synthetic world's corpus: the trainer (next-token cross-entropy on
 * response tokens, AdamW, seeded), held-out perplexity, the job behind {@code rlhf sft} that writes
 * the SFT policy checkpoint, and the adapter that lets a policy answer prompts for the offline
 * preference set.
 */
package io.streamrlhf.models.sft;
