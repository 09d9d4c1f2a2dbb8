/**
 * The built-in synthetic world (DESIGN section 8): a vocabulary of a few hundred words, a prompt
 * generator, a stochastic grammar that writes the SFT corpus, the hidden gold reward, simulated
 * raters that prefer by a Bradley–Terry draw on the gold reward, and the offline preference-set
 * generator. Pure Java and deterministic given a seed; see {@code docs/synthetic-world.md}.
 */
package io.streamrlhf.models.world;
