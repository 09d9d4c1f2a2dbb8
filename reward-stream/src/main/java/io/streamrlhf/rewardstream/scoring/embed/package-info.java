/** Reward heads over a frozen pretrained encoder's embeddings, as the {@code embed:DIR} reward source. */
package io.streamrlhf.rewardstream.scoring.embed;
