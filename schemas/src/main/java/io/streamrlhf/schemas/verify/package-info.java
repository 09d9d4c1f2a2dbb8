/**
 * Verifier specs: how a prompt's reference answers check a response ({@code Prompt.verifier}). The checking itself
 * is the scorer's ({@code io.streamrlhf.rewardstream.scoring.verify}); this package holds the part of the contract
 * that producers validate before they publish.
 */
package io.streamrlhf.schemas.verify;
