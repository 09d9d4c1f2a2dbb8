/**
 * The evaluator (DESIGN section 7): replay of any topic range or of RMB's JSON files through the reward stream's
 * scoring core, RMB pairwise and Best-of-N metrics, policy and reward-model comparisons, JSON and HTML/PNG reports.
 *
 * <ul>
 *   <li>{@code rmb}: RMB items and how they are read and written;</li>
 *   <li>{@code metrics}: scoring items with an ensemble, the verdict rule, accuracy tables, majority voting, policy
 *       and reward-model comparisons;</li>
 *   <li>{@code replay}: reading a topic range without a consumer group, and the RMB evaluation topic;</li>
 *   <li>{@code report}: the JSON line and the HTML page with charts;</li>
 *   <li>{@code live}: a running loop against the synthetic world's gold reward (held-out probes, the monitor of
 *       its topics).</li>
 * </ul>
 */
package io.streamrlhf.evaluator;
