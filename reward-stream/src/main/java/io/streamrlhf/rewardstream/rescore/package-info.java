/** Re-scoring past generations with a chosen ensemble into a new scored topic, exactly once. */
package io.streamrlhf.rewardstream.rescore;
