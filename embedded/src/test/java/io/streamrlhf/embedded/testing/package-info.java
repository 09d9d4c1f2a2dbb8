/**
 * Test support shared with other modules through embedded's test-jar: {@link SharedCluster}, one
 * embedded broker and registry per test JVM.
 */
package io.streamrlhf.embedded.testing;
