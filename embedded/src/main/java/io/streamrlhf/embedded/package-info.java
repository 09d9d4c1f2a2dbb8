/**
 * The single-machine default: a real in-process KRaft broker and a real Apicurio schema registry child
 * process, started together by {@code EmbeddedCluster}.
 */
package io.streamrlhf.embedded;
