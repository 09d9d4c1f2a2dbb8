/**
 * Verifiable rewards: responses checked against a prompt's reference answers (exact, normalised, numeric, JSON
 * schema) with the answer extracted by pattern, as the {@code verify:} reward source.
 */
package io.streamrlhf.rewardstream.scoring.verify;
