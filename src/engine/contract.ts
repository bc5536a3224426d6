// The model contract (models/contract.json) as the engine knows it. The engine needs only the
// model folder at run time, so the contract is built in; a test checks it against the file.

export const SCHEMA_VERSION = 1;

export const CONTRACT_INPUTS = {
  tokens: { dtype: 'int64', shape: ['T'] },
  state: { dtype: 'float32', shape: ['state_size'] },
} as const;

export const CONTRACT_OUTPUTS = {
  logits: { dtype: 'float32', shape: ['vocab_size'] },
  state_out: { dtype: 'float32', shape: ['state_size'] },
  importance: { dtype: 'float32', shape: ['T'] },
  surprisal: { dtype: 'float32', shape: ['T'] },
} as const;

/** The outputs of a decoding graph (manifest files.graph_cpu_decode): the contract's without the scores. */
export const CONTRACT_DECODE_OUTPUTS = ['logits', 'state_out'] as const;

export const SPECIAL_TOKEN_ROLES = ['end_of_text', 'fim_prefix', 'fim_suffix', 'fim_middle', 'pad'] as const;
export type SpecialRole = (typeof SPECIAL_TOKEN_ROLES)[number];

export const STATE_TENSOR_FIELDS = ['name', 'offset', 'shape', 'dtype', 'init'] as const;

export const IMPORTANCE_KINDS = ['source_competition', 'write_strength', 'none'] as const;

export const FILES = { graph: 'model.onnx', tokenizer: 'tokenizer.json', manifest: 'manifest.json' } as const;

export const SPECIAL_TOKEN_TEXT: Record<SpecialRole, string> = {
  end_of_text: '<|endoftext|>',
  fim_prefix: '<|fim_prefix|>',
  fim_suffix: '<|fim_suffix|>',
  fim_middle: '<|fim_middle|>',
  pad: '<|pad|>',
};
