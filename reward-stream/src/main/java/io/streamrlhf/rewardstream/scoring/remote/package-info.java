/**
 * Remote scorers over HTTP: reward servers ({@code http:URL}) and the circuit breaker and retry policy they share
 * with the generative judges.
 */
package io.streamrlhf.rewardstream.scoring.remote;
