extension Encoder {
    /// ctx: [tokens, hidden] = multi-head self-attention of each sequence of the batch over its
    /// own tokens only (qkv: [tokens, 3·hidden]). Sequences are not padded, so no mask is needed:
    /// this equals the padded computation with the padding masked out.
    func attention(seqs: [[Int32]], ws: Workspace) {
        let h = config.hiddenSize
        var row = 0
        for ids in seqs {
            let len = ids.count
            // qkv rows [row, row+len): [len, 3h]; ctx rows: [len, h]; scores: [len, len] per head.
            Kernels.attention(qkv: ws.qkv + row * 3 * h, ldqkv: 3 * h, len: len,
                              heads: config.numAttentionHeads, headSize: config.headSize,
                              ctx: ws.ctx + row * h, ldctx: h, scores: ws.scores)
            row += len
        }
    }
}
