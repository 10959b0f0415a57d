"""(section being written)"""
