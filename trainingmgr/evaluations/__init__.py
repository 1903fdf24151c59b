"""Course evaluations: end-of-course surveys and knowledge tests taken before and after."""
