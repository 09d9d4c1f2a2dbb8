/**
 * Evaluation of a running loop against the synthetic world's hidden gold reward.
 *
 * <ul>
 *   <li>{@link io.streamrlhf.evaluator.live.GoldProbe}: the yardstick off the stream: a policy's gold and proxy
 *       reward on held-out prompts, and best-of-n reranking of the SFT policy's samples by the initial ensemble;</li>
 *   <li>{@link io.streamrlhf.evaluator.live.LoopMonitor}: the loop seen from outside, as a dashboard would: the gold of
 *       every scored generation, per policy version and over a rolling window, the learner's metrics, the versions
 *       published and the preferences made, from the topics alone;</li>
 *   <li>{@link io.streamrlhf.evaluator.live.PassProbe}: the verifiable task's yardstick: a policy's pass rate on
 *       held-out prompts by the reward stream's own verifier, and best-of-n by that verifier.</li>
 * </ul>
 */
package io.streamrlhf.evaluator.live;
