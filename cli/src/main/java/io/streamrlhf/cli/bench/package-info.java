/** {@code rlhf bench ...}: benchmark commands whose last output line is one JSON object. */
package io.streamrlhf.cli.bench;
