/**
 * Rule-based (verifiable) rewards: response length in Unicode code points, keyword and regular-expression matches,
 * and format checks. Deterministic, cheap, version 1 unless configured.
 */
package io.streamrlhf.rewardstream.scoring.rules;
