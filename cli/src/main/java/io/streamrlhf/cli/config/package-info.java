/**
  * Configuration shared by every service command: the declared keys, their defaults, and the one precedence between
  * command-line flags, {@code RLHF_*} environment variables, a properties file and defaults.
  */
package io.streamrlhf.cli.config;
