/**
  * The {@code rlhf} command line (picocli).
  */
package io.streamrlhf.cli;
