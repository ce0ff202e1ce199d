"""torch.nn.functional's attention (scaled_dot_product_attention, multi_head_attention_forward) and ctc_loss."""

__all__ = []
